// The rank worker: owns the GPUDevice and runs training; exposed to the page with comlink.
// Standalone: `train` runs one whole model. In a run: `trainRank` runs this tab's rank of a
// pipeline × data-parallel layout, with the network served by the page on a MessagePort
// (WebRTC exists only on the page's thread) behind a RunGate for start/pause/resume/stop.
import * as Comlink from 'comlink';
import { commClient } from '../src/comm/worker-bridge';
import { createBrowserContext } from '../src/gpu/device-browser';
import type { AdapterSummary, GpuContext } from '../src/gpu/context';
import { defaultCorpus } from '../src/data/corpus';
import { RunGate, RunStopped, type GateState } from '../src/tab/run-gate';
import { HttpCheckpointStore, type CheckpointAuth } from '../src/checkpoint';
import { trainRank } from '../src/train/distributed/rank-loop';
import type { RankCheckpointing } from '../src/train/distributed/rank-checkpoint';
import type { TrainEvent } from '../src/train/events';
import type { TrainConfig } from '../src/train/setup';
import { trainSingleRank } from '../src/train/single-rank';

let ctx: Promise<GpuContext> | null = null;
const signal = { aborted: false };
let gate: RunGate | null = null;
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

/** What one rank of a run trains (from the coordinator's assignment). */
export interface RankJob {
  config: TrainConfig;
  corpusText: string | null;
  rank: number;
  world: number;
  /** this rank's data- and pipeline-parallel groups (itself included) */
  groups: { dp: number[]; pp: number[] };
  maxSteps?: number;
  /** the coordinator's checkpoint API for this run (the config's save / load say whether to use it) */
  checkpoints?: { coordinatorUrl: string; runId: string; auth: CheckpointAuth };
}

function checkpointStores(job: RankJob): RankCheckpointing {
  const api = job.checkpoints;
  if (!api) return {};
  const store = (source: 'save' | 'load') => new HttpCheckpointStore({ ...api, source });
  return {
    save: job.config.save ? store('save') : undefined,
    every: job.config.checkpoint_factor ?? null,
    load: job.config.load ? store('load') : undefined,
  };
}

export type RankOutcome = { trainLoss: number; validLoss: number; stopped: false } | { stopped: true; reason: string };

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
      return await trainSingleRank(await context(), config, text, onEvent, { maxSteps, signal });
    } catch (e) {
      onEvent({ kind: 'error', message: (e as Error).message });
      throw e;
    }
  },
  /** Trains rank `job.rank`; `port` is the page's end of serveComm. The first network
   *  operation waits for start(); onGate reports waiting/running/paused/stopped. */
  async trainRank(
    job: RankJob,
    port: MessagePort,
    onEvent: (e: TrainEvent) => void,
    onGate: (s: GateState, step?: number) => void,
  ): Promise<RankOutcome> {
    if (gate) throw new Error(`this worker already trains a rank`);
    signal.aborted = false;
    const comm = { rank: job.rank, ...commClient(port) };
    const g = (gate = new RunGate(comm, job.groups, onGate));
    const emit = (e: TrainEvent) => {
      if (e.kind === 'step') g.boundary();
      onEvent(e);
    };
    try {
      const text = job.corpusText ?? (await defaultCorpus());
      const r = await trainRank(
        await context(),
        job.config,
        text,
        { comm: g.wrap(), rank: job.rank, world: job.world },
        emit,
        { maxSteps: job.maxSteps, signal, checkpoints: checkpointStores(job) },
      );
      return { ...r, stopped: false };
    } catch (e) {
      if (e instanceof RunStopped) return { stopped: true, reason: e.message };
      const message = explain(e);
      onEvent({ kind: 'error', message });
      throw new Error(message);
    }
  },
  /** The coordinator's control messages, for the rank being trained. */
  start(): void {
    gate?.start();
  },
  pause(): void {
    gate?.pause();
  },
  resume(): void {
    gate?.resume();
  },
  stop(reason?: string): void {
    signal.aborted = true;
    gate?.stop(reason);
  },
};

export type RankWorkerApi = typeof api;
Comlink.expose(api);
