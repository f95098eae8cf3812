// The rank worker: owns the GPUDevice and runs training; exposed to the page with comlink.
import * as Comlink from 'comlink';
import { createBrowserContext } from '../src/gpu/device-browser';
import type { AdapterSummary, GpuContext } from '../src/gpu/context';
import { defaultCorpus } from '../src/data/corpus';
import type { TrainEvent } from '../src/train/events';
import type { TrainConfig } from '../src/train/setup';
import { trainSingleRank } from '../src/train/single-rank';

let ctx: Promise<GpuContext> | null = null;
const signal = { aborted: false };

function context(): Promise<GpuContext> {
  ctx ??= createBrowserContext();
  return ctx;
}

const api = {
  async adapter(): Promise<AdapterSummary | undefined> {
    return (await context()).adapter;
  },
  async train(config: TrainConfig, corpusText: string | null, onEvent: (e: TrainEvent) => void, maxSteps?: number): Promise<{ trainLoss: number; validLoss: number }> {
    signal.aborted = false;
    try {
      const text = corpusText ?? (await defaultCorpus());
      return await trainSingleRank(await context(), config, text, onEvent, { maxSteps, signal });
    } catch (e) {
      onEvent({ kind: 'error', message: (e as Error).message });
      throw e;
    }
  },
  stop(): void {
    signal.aborted = true;
  },
};

export type RankWorkerApi = typeof api;
Comlink.expose(api);
