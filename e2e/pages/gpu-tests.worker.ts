// Whole-model checks that run on WebGPU inside a Worker: PyTorch parity and short training runs.
import * as Comlink from 'comlink';
import { createBrowserContext } from '../../src/gpu/device-browser';
import type { GpuContext } from '../../src/gpu/context';
import { runParity, type ParityFiles, type ParityReport } from '../../src/train/parity';
import { defaultCorpus } from '../../src/data/corpus';
import type { TrainEvent } from '../../src/train/events';
import type { TrainConfig } from '../../src/train/setup';
import { trainSingleRank } from '../../src/train/single-rank';
import type { DataSource } from '../../src/data/data-files';
import { openRankData } from '../../src/data/rank-data';
import { createLoopbackWorld } from '../../src/comm/loopback';
import { directComm } from '../../src/train/distributed/rank-comm';
import { trainRank } from '../../src/train/distributed/rank-loop';
import { memoryCheckpointStore, type CheckpointStore } from '../../src/checkpoint';
import { type ElasticResult, type ElasticScenario, runElastic } from './elastic-harness';

/** Checkpoint stores that outlive one call, by name (a "directory" the test's runs share). */
const stores = new Map<string, CheckpointStore>();
const store = (name: string) => stores.get(name) ?? stores.set(name, memoryCheckpointStore()).get(name)!;

export interface LayoutCheckpoints {
  /** save into this named store every `every` steps (and at the end) */
  save?: string;
  every?: number;
  /** load the newest checkpoint of this named store first */
  load?: string;
}

let ctx: Promise<GpuContext> | null = null;
const context = () => (ctx ??= createBrowserContext());

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

const api = {
  /** An elastic run over loopback with injected failures (see elastic-harness.ts). */
  async elastic(config: TrainConfig, scenario: ElasticScenario): Promise<ElasticResult> {
    return runElastic(await context(), config, await defaultCorpus(), scenario);
  },
  async parity(name: string): Promise<ParityReport> {
    const base = `/tools/reference/fixtures/${name}/`;
    const files: ParityFiles = {
      variant: await (await fetch(`${base}variant.json`)).json(),
      inputs: await fetchBytes(`${base}inputs.safetensors`),
      golden: await (await fetch(`${base}golden.json`)).json(),
      goldenGrads: await fetchBytes(`${base}golden_grads.safetensors`),
    };
    return runParity(await context(), files);
  },
  /** A parallel layout (from the config's model/pipe parallel sizes and `world`) with every
   *  rank in this worker over the loopback transport; events per rank. */
  async trainLayout(
    config: TrainConfig,
    world: number,
    maxSteps?: number,
    ck: LayoutCheckpoints = {},
    sampleTokens = 0,
  ): Promise<TrainEvent[][]> {
    const loop = createLoopbackWorld(world);
    const text = await defaultCorpus();
    const ranks = Array.from({ length: world }, (_, r) => r);
    const events: TrainEvent[][] = ranks.map(() => []);
    const gpu = await context();
    const checkpoints = {
      save: ck.save ? store(ck.save) : undefined,
      every: ck.every,
      load: ck.load ? store(ck.load) : undefined,
    };
    await Promise.all(
      ranks.map((r) =>
        trainRank(
          gpu,
          config,
          { kind: 'text', text },
          { comm: directComm(loop.transports[r]), rank: r, world },
          (e) => events[r].push(e),
          { maxSteps, checkpoints, sampleTokens },
        ),
      ),
    );
    return events;
  },
  /** The named store's complete iterations and the files of its newest one. */
  async checkpointFiles(name: string): Promise<{ iterations: number[]; files: string[] }> {
    const s = store(name);
    const latest = await s.latest();
    return {
      iterations: await s.iterations(),
      files: latest === null ? [] : (await s.manifest(latest))!.files.map((f) => f.name),
    };
  },
  /** One rank training on `data` (e.g. a run's dataset through the coordinator). */
  async trainOn(config: TrainConfig, data: DataSource, maxSteps?: number): Promise<TrainEvent[]> {
    const events: TrainEvent[] = [];
    await trainSingleRank(await context(), config, data, (e) => events.push(e), { maxSteps });
    return events;
  },
  /** The micro-batches a rank reads for these train sample ids. */
  async readTrain(config: TrainConfig, data: DataSource, globalBatch: number, ids: number[]): Promise<number[]> {
    const d = await openRankData(config, data, { globalBatch });
    return [...(await d.train.batch(ids)).tokens];
  },
  async train(config: TrainConfig, maxSteps?: number): Promise<TrainEvent[]> {
    const events: TrainEvent[] = [];
    await trainSingleRank(
      await context(),
      config,
      { kind: 'text', text: await defaultCorpus() },
      (e) => events.push(e),
      { maxSteps },
    );
    return events;
  },
};
export type GpuTestApi = typeof api;
Comlink.expose(api);
