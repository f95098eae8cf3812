// Test harness page: exposes the test worker (WebGPU in a dedicated Worker) as window.gpuTests.
import * as Comlink from 'comlink';
import type { GpuTestApi } from './gpu-tests.worker';

const worker = new Worker(new URL('./gpu-tests.worker.ts', import.meta.url), { type: 'module' });
(window as unknown as { gpuTests: Comlink.Remote<GpuTestApi> }).gpuTests = Comlink.wrap<GpuTestApi>(worker);
