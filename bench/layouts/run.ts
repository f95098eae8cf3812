// Runs every rank of one layout in this process (loopback transport, one GpuContext shared by
// all ranks) and keeps, per rank and step, the breakdown with its op spans moved onto the
// process clock (absolute ms), plus the rank's comm calls.
//   mode 'shared': the ranks run together, as they do when tabs share a machine;
//   mode 'serial': one rank at a time between comm calls (timed-comm.ts): op spans are the
//                  rank's own work, for the replay.
// collectives 'device': the ranks' collectives run on the shared GPU device (device-collectives.ts);
// the serial mode always takes the host path (its baton is handed over in comm calls).
import { loadConfig } from '../../src/config/load-files';
import type { GpuContext } from '../../src/gpu/context';
import { createLoopbackWorld } from '../../src/comm/loopback';
import { deviceWorld } from '../../src/gpu/device-collectives';
import type { RankCoord } from '../../src/parallel/grid';
import { planFromConfig } from '../../src/parallel/from-config';
import type { StepBreakdown, TrainEvent } from '../../src/train/events';
import { directComm } from '../../src/train/distributed/rank-comm';
import { trainRank } from '../../src/train/distributed/rank-loop';
import type { TrainConfig } from '../../src/train/setup';
import type { ScheduleOp } from '../../src/parallel/ops';
import { layoutOverrides, type Layout, type ModelSize } from './catalog';
import { Baton, timedComm, type CommCall } from './timed-comm';

export interface AbsSpan {
  kind: string;
  microbatch?: number;
  start: number;
  end: number;
}

export interface StepRecord {
  step: number;
  ms: number;
  tokensPerSec: number;
  breakdown: StepBreakdown;
  /** the breakdown's spans on the process clock (empty when the trainer gives none) */
  spans: AbsSpan[];
}

export interface RankRun {
  coord: RankCoord;
  steps: StepRecord[];
  calls: CommCall[];
}

export interface LayoutRun {
  layout: Layout;
  mode: 'shared' | 'serial';
  tokensPerStep: number;
  params: number[];
  /** each stage's op list (the plan's 1F1B schedule) */
  schedules: ScheduleOp[][];
  ranks: RankRun[];
  wallMs: number;
}

export async function runLayout(
  ctx: GpuContext,
  baseConfigs: string[],
  text: string,
  layout: Layout,
  size: ModelSize,
  steps: number,
  mode: 'shared' | 'serial',
  collectives: 'device' | 'host' = 'host',
): Promise<LayoutRun> {
  const config = loadConfig(baseConfigs, layoutOverrides(layout, size, steps)).config as unknown as TrainConfig;
  const { plan } = planFromConfig(config, { world: layout.world });
  const loop = createLoopbackWorld(layout.world);
  const baton = mode === 'serial' ? new Baton() : null;
  const hub = collectives === 'device' && !baton ? deviceWorld(ctx, layout.world) : null;
  const device = hub ? plan.grid.coords.map((_, r) => hub.member(r)) : null;
  const ranks: RankRun[] = [];
  const params: number[] = [];
  let tokensPerStep = 0;
  const t0 = performance.now();
  // serial mode times each op's own GPU work: the executor waits for the GPU after each compute op
  ctx.measureOps = mode === 'serial';
  await Promise.all(
    plan.grid.coords.map(async (coord, r) => {
      const { comm, calls } = timedComm(directComm(loop.transports[r], device?.[r]), baton);
      const run: RankRun = { coord, steps: [], calls };
      ranks[r] = run;
      const emit = (e: TrainEvent) => {
        if (e.kind === 'start') {
          params[r] = e.params;
          tokensPerStep = e.tokensPerStep;
        }
        if (e.kind !== 'step' || !e.breakdown) return;
        // The step ended when the trainer measured `ms`: now, or with DP when it started the loss all-reduce.
        const last = calls[calls.length - 1];
        const end = plan.dp > 1 && last?.group?.endsWith(':loss') ? last.start : performance.now();
        const begin = end - e.breakdown.totalMs;
        const spans = (e.breakdown.spans ?? []).map((s) => ({
          kind: s.kind,
          microbatch: s.microbatch,
          start: begin + s.startMs,
          end: begin + s.endMs,
        }));
        run.steps.push({ step: e.step, ms: e.ms, tokensPerSec: e.tokensPerSec, breakdown: e.breakdown, spans });
      };
      if (baton) await baton.acquire();
      try {
        await trainRank(ctx, config, { kind: 'text', text }, { comm, rank: r, world: layout.world }, emit, {
          maxSteps: steps,
        });
      } catch (e) {
        device?.[r].fail(e);
        throw e;
      } finally {
        baton?.release();
      }
    }),
  );
  ctx.measureOps = false;
  return {
    layout,
    mode,
    tokensPerStep,
    params,
    schedules: plan.stages.map((s) => [...s.schedule]),
    ranks,
    wallMs: performance.now() - t0,
  };
}
