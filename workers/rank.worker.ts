// The rank worker: owns the GPUDevice and runs training; exposed to the page with comlink.
// Standalone: `train` runs one whole model. In a run: `join` sets up this tab's elastic rank
// (config, data, checkpoints, local snapshots in IndexedDB); then each membership generation
// `runGeneration` restores the rank's state and trains it, with the network served by the
// page on a MessagePort (WebRTC exists only on the page's thread) behind a RunGate for
// start/pause/resume/stop, until training is done or the page halts the generation.
import * as Comlink from 'comlink';
import { HttpCheckpointStore, type CheckpointAuth } from '../src/checkpoint';
import { commClient } from '../src/comm/worker-bridge';
import { defaultCorpus } from '../src/data/corpus';
import type { AdapterSummary, GpuContext } from '../src/gpu/context';
import { createBrowserContext } from '../src/gpu/device-browser';
import type { ElasticLayout, GenerationPlan, HaltReport } from '../src/protocol';
import { IdbSnapshotStore } from '../src/tab/idb-snapshots';
import { RunGate, RunStopped, type GateState } from '../src/tab/run-gate';
import { ElasticRank, type GenerationOutcome } from '../src/train/elastic/elastic-rank';
import { HaltSignal, haltable } from '../src/train/elastic/halt';
import type { TrainEvent } from '../src/train/events';
import { modelSpec, type TrainConfig } from '../src/train/setup';
import type { DataSource } from '../src/data/data-files';
import { openRankData } from '../src/data/rank-data';
import { trainSingleRank } from '../src/train/single-rank';

let ctx: Promise<GpuContext> | null = null;
const signal = { aborted: false };
let deviceLost: string | null = null;

function context(): Promise<GpuContext> {
  ctx ??= createBrowserContext().then((c) => {
    void c.device.lost.then((info) => {
      deviceLost = `the GPU device was lost (${info.reason}${info.message ? `: ${info.message}` : ''})`;
      console.error(deviceLost);
    });
    return c;
  });
  return ctx;
}

/** An error to report: a lost device explains the odd errors that follow it. */
function explain(e: unknown): string {
  const message = (e as Error).message ?? String(e);
  return deviceLost && !message.includes(deviceLost) ? `${deviceLost}; then: ${message}` : message;
}

/** What this tab's rank trains, whatever rank and generation it holds (from the coordinator). */
export interface RankJob {
  runId: string;
  config: TrainConfig;
  /** text, or the run's data through the coordinator (the default corpus when the config names none) */
  data: DataSource;
  maxSteps?: number;
  /** the coordinator's checkpoint API for this run (the config's save / load say whether to use it) */
  checkpoints?: { coordinatorUrl: string; auth: CheckpointAuth };
  /** local snapshots every N steps (null: chosen from the measured cost; 0: off) */
  snapshotInterval?: number | null;
}

/** One generation, from the page: which rank, its groups for the pause gate. */
export interface GenerationJob {
  plan: GenerationPlan;
  rank: number;
  groups: { dp: number[]; pp: number[]; tp: number[] };
}

let elastic: ElasticRank | null = null;
/** Events on their way to the page. Comlink carries a callback's calls on the callback's own port,
 *  so a generation's result, returned on the API's port, could overtake its last events (the final
 *  step's validation loss then reached the page after it had reported the step without it). */
const delivering = new Set<Promise<unknown>>();
function deliver(onEvent: (e: TrainEvent) => unknown, e: TrainEvent): void {
  const p = Promise.resolve(onEvent(e)).catch(() => {});
  delivering.add(p);
  void p.finally(() => delivering.delete(p));
}
async function delivered(): Promise<void> {
  while (delivering.size > 0) await Promise.all([...delivering]);
}
let generation: { halt: HaltSignal; gate: RunGate; start: () => void } | null = null;

function checkpointStores(job: RankJob) {
  const api = job.checkpoints;
  if (!api) return {};
  const store = (source: 'save' | 'load') =>
    new HttpCheckpointStore({ coordinatorUrl: api.coordinatorUrl, runId: job.runId, auth: api.auth, source });
  return {
    save: job.config.save ? store('save') : undefined,
    every: job.config.checkpoint_factor ?? null,
    load: job.config.load ? store('load') : undefined,
  };
}

const api = {
  async adapter(): Promise<AdapterSummary | undefined> {
    return (await context()).adapter;
  },
  async train(
    config: TrainConfig,
    corpusText: string | null,
    onEvent: (e: TrainEvent) => void,
    maxSteps?: number,
  ): Promise<{ trainLoss: number; validLoss: number }> {
    signal.aborted = false;
    try {
      const text = corpusText ?? (await defaultCorpus());
      const emit = (e: TrainEvent) => deliver(onEvent, e);
      const out = await trainSingleRank(await context(), config, { kind: 'text', text }, emit, { maxSteps, signal });
      await delivered();
      return out;
    } catch (e) {
      deliver(onEvent, { kind: 'error', message: (e as Error).message });
      await delivered();
      throw e;
    }
  },

  /** Sets up this tab's rank for a run (once). */
  async join(job: RankJob, onEvent: (e: TrainEvent) => void): Promise<void> {
    if (elastic) return;
    const corpus = await openRankData(job.config, job.data);
    elastic = new ElasticRank(await context(), {
      runId: job.runId,
      config: job.config,
      spec: modelSpec(job.config, corpus.tokenizer),
      corpus,
      emit: (e) => deliver(onEvent, e),
      checkpoints: checkpointStores(job),
      snapshots: new IdbSnapshotStore(),
      snapshotInterval: job.snapshotInterval ?? null,
      sampleTokens: job.config.sample_tokens ?? 0,
      maxSteps: job.maxSteps,
      stopSignal: signal,
    });
  },

  /** Restores and trains one generation; `port` is the page's end of serveComm for it. */
  async runGeneration(
    job: GenerationJob,
    port: MessagePort,
    onReady: () => void,
    onGate: (s: GateState, step?: number) => void,
  ): Promise<GenerationOutcome> {
    if (!elastic) throw new Error('runGeneration before join');
    generation?.halt.halt('a newer generation began');
    const halt = new HaltSignal();
    const comm = haltable({ rank: job.rank, ...commClient(port) }, halt);
    const gate = new RunGate(comm, job.groups, onGate);
    let start!: () => void;
    const started = new Promise<void>((r) => {
      start = r;
    });
    const mine = (generation = {
      halt,
      gate,
      start: () => {
        gate.start();
        start();
      },
    });
    try {
      const out = await elastic.runGeneration(job.plan, job.rank, {
        comm,
        trainComm: gate.wrap(),
        halt,
        ready: () => onReady(),
        started,
        onStep: () => gate.boundary(),
      });
      await delivered();
      return out;
    } catch (e) {
      await delivered();
      if (e instanceof RunStopped || signal.aborted) return { kind: 'stopped' };
      throw new Error(explain(e));
    } finally {
      if (generation === mine) generation = null;
    }
  },

  /** What this tab could restore from (for the coordinator), given the rank it holds. */
  async report(layout: ElasticLayout, rank: number): Promise<HaltReport> {
    if (!elastic) return { step: null, reachable: [], snapshots: [] };
    const r = await elastic.report();
    if (r.step !== null) return r;
    return { ...r, snapshots: await elastic.snapshotSteps(layout, rank).catch(() => []) };
  },

  /** The coordinator's control messages, for the generation being trained. */
  halt(reason: string): void {
    generation?.halt.halt(reason);
  },
  start(): void {
    generation?.start();
  },
  pause(): void {
    generation?.gate.pause();
  },
  resume(): void {
    generation?.gate.resume();
  },
  stop(reason?: string): void {
    signal.aborted = true;
    generation?.gate.stop(reason);
  },
};

export type RankWorkerApi = typeof api;
Comlink.expose(api);
