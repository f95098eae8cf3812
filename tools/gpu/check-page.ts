// A page that runs only the matmul check (no dependency on the shared checks index, which
// other kernels' work-in-progress can break); driven by tools/gpu/browser-checks.ts.
import { matmulCheck } from '../../src/gpu/checks/matmul.check';
import { runChecks } from '../../src/gpu/checks/harness';
import { createBrowserContext } from '../../src/gpu/device-browser';

(window as unknown as Record<string, unknown>).kernelChecks = async (filter?: string) => {
  const ctx = await createBrowserContext();
  try {
    return { adapter: ctx.adapter, results: await runChecks(ctx, [matmulCheck], filter) };
  } finally {
    ctx.device.destroy();
  }
};
