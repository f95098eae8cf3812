// Runs every kernel check inside a dedicated Worker (where training runs) and exposes
// the results to Playwright as window.kernelChecks().
import * as Comlink from 'comlink';
import type { CheckWorkerApi } from './kernels.worker';

const worker = new Worker(new URL('./kernels.worker.ts', import.meta.url), { type: 'module' });
const api = Comlink.wrap<CheckWorkerApi>(worker);
(window as unknown as { kernelChecks: CheckWorkerApi['run'] }).kernelChecks = (filter, exact, sweep) =>
  api.run(filter, exact, sweep);
