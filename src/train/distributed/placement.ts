// Where a rank sits in a plan: its stage, tensor shard and data replica, and the groups and
// neighbours it talks to (src/parallel says who is where; this turns it into what the trainer uses).
import type { GroupSpec } from '../../comm/worker-bridge';
import type { PipeCodec } from '../../config/local-sgd';
import { compressedAllReduce } from '../../comm/compress/compressed-ring';
import { halfCodec } from '../../comm/compress/half-wire';
import type { HalfFormat } from '../precision';
import type { Range } from '../../gpu/kernels/optimizer';
import type { ParamLayout, StageRange } from '../../model/params';
import type { TpCollectives, TpDeviceCollectives } from '../../model/program';
import type { TpPlace } from '../../model/tp-shard';
import { rankOf } from '../../parallel/grid';
import type { Plan } from '../../parallel/plan';
import { slotPlan } from '../../parallel/slots';
import type { PipelinePlace } from './pipeline';
import { deviceFor, type RankComm } from './rank-comm';
import type { GpuContext } from '../../gpu/context';
import type { DeviceCollectives } from '../../gpu/device-collectives';

export interface RankIdentity {
  comm: RankComm;
  rank: number;
  world: number;
}

export interface RankPlacement {
  place: PipelinePlace;
  stage: StageRange;
  slots: number;
  dpRank: number;
  /** the ZeRO stage that runs: the configured one, 0 without data parallelism */
  zeroStage: number;
  tp: TpPlace;
  tpGroup: GroupSpec;
}

/** How the rank's traffic travels: local SGD (no per-step gradient average over the replicas)
 *  and the pipeline's codecs (config keys local_sgd and pipe_compression). */
export interface RankWire {
  localSgd?: boolean;
  pipe?: { activations: PipeCodec; gradients: PipeCodec };
  /** mixed precision: what goes between ranks uncompressed travels in this 16-bit format */
  half?: HalfFormat | null;
  /** Megatron's sequence parallelism inside the TP group (config key sequence_parallel) */
  sequenceParallel?: boolean;
}

export function placeRank(
  plan: Plan,
  id: RankIdentity,
  tiedEmbeddings: boolean,
  zeroStage = 0,
  wire: RankWire = {},
): RankPlacement {
  const grid = plan.grid;
  const me = grid.coords[id.rank];
  const sp = plan.stages[me.pp];
  const find = (groups: number[][]) => groups.find((g) => g.includes(id.rank))!;
  const ppRanks = find(grid.groups.pp);
  const group = (name: string, ranks: number[]): GroupSpec => ({ name: `${name}[${ranks.join(',')}]`, ranks });
  const last = plan.pp - 1;
  const tiedAcross = plan.pp > 1 && tiedEmbeddings;
  // ZeRO shards over the replicas: with one there is nothing to shard
  const zero = zeroStage >= 1 && plan.dp > 1;

  const tpGroup = group('tp', find(grid.groups.tp)),
    ppGroup = group('pp', ppRanks),
    dpGroup = group('dp', find(grid.groups.dp));
  return {
    stage: {
      firstLayer: sp.chunks[0][0],
      endLayer: sp.chunks[sp.chunks.length - 1][1],
      hasEmbedding: me.pp === 0,
      hasHead: me.pp === last,
      // interleaved 1F1B: the stage's model chunks (global chunk k·P + stage)
      ...(plan.virtualChunks > 1 ? { chunks: sp.chunks.map(([a, b]): [number, number] => [a, b]) } : {}),
    },
    slots: slotPlan(sp.schedule, plan.virtualChunks, sp.bufferSlots).count,
    dpRank: me.dp,
    zeroStage: zero ? zeroStage : 0,
    tp: { size: plan.tp, rank: me.tp },
    tpGroup,
    place: {
      comm: id.comm,
      stage: me.pp,
      stages: plan.pp,
      prevRank: me.pp > 0 ? rankOf(grid, { ...me, pp: me.pp - 1 }) : null,
      nextRank: me.pp < last ? rankOf(grid, { ...me, pp: me.pp + 1 }) : null,
      ppGroup,
      tiedEmbeddingGroup:
        tiedAcross && (me.pp === 0 || me.pp === last) ? group('tied', [ppRanks[0], ppRanks[last]]) : null,
      dpGroup,
      zero,
      normGroups: zero ? [tpGroup, ppGroup, dpGroup] : [tpGroup, ppGroup],
      ops: sp.schedule,
      dpAverage: !wire.localSgd,
      pipeCodecs: wire.pipe ?? { activations: 'none', gradients: 'none' },
      ...(wire.half ? { half: wire.half } : {}),
      seqParallelGroup: wire.sequenceParallel && plan.tp > 1 ? tpGroup : null,
    },
  };
}

/** Flat ranges this rank leaves out of the gradient norm because another rank counts them:
 *  TP-replicated tensors (counted on TP rank 0) and the last stage's copy of tied embeddings. */
export function normSkipRanges(layout: ParamLayout, tp: TpPlace, stage: StageRange, tiedCopy: boolean): Range[] {
  const skip: Range[] = [];
  if (tiedCopy && stage.hasHead && !stage.hasEmbedding) {
    const wte = layout.byName.get('embed.wte')!;
    skip.push({ start: wte.offset, end: wte.offset + wte.length });
  }
  if (tp.rank > 0 && layout.replicated.end > layout.replicated.start) skip.push(layout.replicated);
  return skip;
}

/** The TP group's collectives; with mixed precision the sums (the row-parallel layers' partial
 *  outputs and the column-parallel layers' input gradients) travel in 16 bits, every rank
 *  decoding the same bytes so replicated tensors stay identical, and so do sequence
 *  parallelism's all-gathers and reduce-scatters (runProgram packs their tensors on the GPU).
 *  With `ctx`, a group whose ranks all share that GPU device in this process sums on it instead,
 *  in f32 (no wire, so no 16-bit wire format). */
export function tpCollectives(
  comm: RankComm,
  group: GroupSpec,
  half?: HalfFormat | null,
  ctx?: GpuContext,
): TpCollectives {
  let key = 'start',
    n = 0;
  const wired = half ? { ...group, wire: half } : group;
  const dev = ctx ? deviceFor(comm, group, ctx) : null;
  return {
    ...(dev ? { device: tpOnDevice(dev, group) } : {}),
    size: group.ranks.length,
    ...(half ? { wire: half } : {}),
    sum: half
      ? (a) => compressedAllReduce(comm, group.ranks, a, { codec: halfCodec(half), tag: `${group.name}:${key}:${n++}` })
      : (a) => comm.allReduce(a, group, 'sum'),
    gather: (a, _what, inHalf) => comm.allGather(a, inHalf ? wired : group),
    restart(k) {
      key = k;
      n = 0;
    },
    reduceScatter: (a) => comm.reduceScatter(a, wired, 'sum'),
  };
}

function tpOnDevice(dev: DeviceCollectives, group: GroupSpec): TpDeviceCollectives {
  return {
    sum: (t) => dev.allReduce(t, group, 'sum'),
    seqGather: (pairs, B, T) => dev.seqGather(pairs, B, T, group),
    seqReduceScatter: (full, local, B, T) => dev.seqReduceScatter(full, local, B, T, group),
  };
}
