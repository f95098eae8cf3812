// Every rank of a `world` trained at once in this process, over loopback transports and one GPU
// context (tests and benches): what each rank returned, its events, and the bytes it sent.
import { createLoopbackWorld } from '../../comm/loopback';
import type { GpuContext } from '../../gpu/context';
import type { TrainEvent } from '../events';
import type { TrainConfig } from '../setup';
import { directComm } from './rank-comm';
import { trainRank, type TrainRankOptions } from './rank-loop';

type RankResult = Awaited<ReturnType<typeof trainRank>>;

export interface LoopbackRanks<Out> {
  out: Out[];
  /** each rank's events, in order */
  events: TrainEvent[][];
  /** each rank's bytes sent to all others */
  bytes: number[];
}

function start(ctx: GpuContext, config: TrainConfig, text: string, world: number, opts: TrainRankOptions) {
  const loop = createLoopbackWorld(world);
  const events = loop.transports.map(() => [] as TrainEvent[]);
  const runs = loop.transports.map((t, rank) =>
    trainRank(
      ctx,
      config,
      { kind: 'text', text },
      { comm: directComm(t), rank, world },
      (e) => events[rank].push(e),
      opts,
    ),
  );
  const bytes = () => loop.transports.map((t) => t.meter.totals().reduce((a, s) => a + s.bytesSent, 0));
  return { runs, events, bytes };
}

/** Fails as soon as one rank fails. */
export async function trainLoopbackRanks(
  ctx: GpuContext,
  config: TrainConfig,
  text: string,
  world: number,
  opts: TrainRankOptions = {},
): Promise<LoopbackRanks<RankResult>> {
  const { runs, events, bytes } = start(ctx, config, text, world, opts);
  const out = await Promise.all(runs);
  return { out, events, bytes: bytes() };
}

/** Waits for every rank, failed or not (a run that must fail on every rank). */
export async function trainLoopbackRanksSettled(
  ctx: GpuContext,
  config: TrainConfig,
  text: string,
  world: number,
  opts: TrainRankOptions = {},
): Promise<LoopbackRanks<PromiseSettledResult<RankResult>>> {
  const { runs, events, bytes } = start(ctx, config, text, world, opts);
  const out = await Promise.allSettled(runs);
  return { out, events, bytes: bytes() };
}
