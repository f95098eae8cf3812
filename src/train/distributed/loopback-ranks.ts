// Every rank of a `world` trained at once in this process, over loopback transports and one GPU
// context (tests and benches): what each rank returned, its events, and the bytes it sent.
// The ranks share the device, so their collectives and f32 pipeline tensors go on it
// (gpu/device-collectives.ts, gpu/device-p2p.ts) unless `collectives: 'host'` asks for the wire
// path (tests of what travels: 16-bit wire, bytes sent).
import { createLoopbackWorld } from '../../comm/loopback';
import type { GpuContext } from '../../gpu/context';
import { deviceWorld } from '../../gpu/device-collectives';
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
  /** collectives that ran on the shared GPU device (0 with collectives: 'host') */
  deviceCollectives: number;
  /** point-to-point tensors (pipeline activations, gradients) copied on the device (gpu/device-p2p.ts) */
  deviceMessages: number;
}

export interface LoopbackOptions extends TrainRankOptions {
  /** where collectives among the ranks run (default 'device': on the shared GPU device) */
  collectives?: 'device' | 'host';
}

function start(ctx: GpuContext, config: TrainConfig, text: string, world: number, opts: LoopbackOptions) {
  const loop = createLoopbackWorld(world);
  const hub = opts.collectives === 'host' ? null : deviceWorld(ctx, world);
  const device = hub ? loop.transports.map((_, r) => hub.member(r)) : null;
  const events = loop.transports.map(() => [] as TrainEvent[]);
  const runs = loop.transports.map((t, rank) => {
    const run = trainRank(
      ctx,
      config,
      { kind: 'text', text },
      { comm: directComm(t, device?.[rank]), rank, world },
      (e) => events[rank].push(e),
      opts,
    );
    // a rank that fails fails at once the device collectives that wait for it
    run.catch((e) => device?.[rank].fail(e));
    return run;
  });
  const bytes = () => loop.transports.map((t) => t.meter.totals().reduce((a, s) => a + s.bytesSent, 0));
  const onDevice = () => ({ deviceCollectives: hub?.completed ?? 0, deviceMessages: hub?.mailbox.delivered ?? 0 });
  return { runs, events, bytes, onDevice };
}

/** Fails as soon as one rank fails. */
export async function trainLoopbackRanks(
  ctx: GpuContext,
  config: TrainConfig,
  text: string,
  world: number,
  opts: LoopbackOptions = {},
): Promise<LoopbackRanks<RankResult>> {
  const { runs, events, bytes, onDevice } = start(ctx, config, text, world, opts);
  const out = await Promise.all(runs);
  return { out, events, bytes: bytes(), ...onDevice() };
}

/** Waits for every rank, failed or not (a run that must fail on every rank). */
export async function trainLoopbackRanksSettled(
  ctx: GpuContext,
  config: TrainConfig,
  text: string,
  world: number,
  opts: LoopbackOptions = {},
): Promise<LoopbackRanks<PromiseSettledResult<RankResult>>> {
  const { runs, events, bytes, onDevice } = start(ctx, config, text, world, opts);
  const out = await Promise.allSettled(runs);
  return { out, events, bytes: bytes(), ...onDevice() };
}
