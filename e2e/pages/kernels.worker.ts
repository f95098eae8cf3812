import * as Comlink from 'comlink';
import { allChecks } from '../../src/gpu/checks';
import { runChecks, type CheckResult, type Sweep } from '../../src/gpu/checks/harness';
import { createBrowserContext } from '../../src/gpu/device-browser';

const api = {
  async run(
    filter?: string,
    exact = false,
    sweep: Sweep = 'full',
  ): Promise<{ adapter: unknown; results: CheckResult[] }> {
    const ctx = await createBrowserContext();
    try {
      return { adapter: ctx.adapter, results: await runChecks(ctx, allChecks, filter, exact, sweep) };
    } finally {
      ctx.device.destroy();
    }
  },
};
export type CheckWorkerApi = typeof api;
Comlink.expose(api);
