// From submitted NeoX YAML to a validated config and a plan, and from a plan to what
// one rank is told. The config and plan logic live in src/config and src/parallel;
// this file adapts them to the coordinator and turns their errors into HTTP 400s.

import { batchForDataParallel, parseConfigText, resolveConfig, type ResolvedConfig } from '../src/config/index';
import { planInputFromConfig } from '../src/parallel/from-config';
import { coordOf } from '../src/parallel/grid';
import { planJson } from '../src/parallel/plan-json';
import { makePlan } from '../src/parallel/plan';
import type { Assignment, ElasticLayout } from '../src/protocol';
import { configFor } from '../src/train/elastic/layout';
import type { TrainConfig } from '../src/train/setup';
import { badRequest } from './errors';
import type { ConfigSource } from './store';

export interface PlannedRun {
  /** The resolved NeoX config, with the batch triplet and global_num_gpus of this run's world. */
  config: Record<string, unknown>;
  /** planJson's shape: {world, tp, pp, dp, groups, ranks, stages, schedule, ...} */
  plan: Record<string, unknown>;
  warnings: string[];
}

/**
 * Parses, merges (later files win) and validates the YAML sources, then plans the run.
 * The data-parallel size is `dp` when given, else global_num_gpus / (pp·tp), else 1.
 */
export function planRun(sources: ConfigSource[], dp?: number): PlannedRun {
  let resolved: ResolvedConfig;
  try {
    resolved = resolveConfig(sources.map((s) => parseConfigText(s.text, s.file)));
  } catch (e) {
    throw badRequest('invalid_config', (e as Error).message);
  }
  try {
    const c = resolved.config as unknown as Record<string, number | null>;
    const perReplica = Math.max(1, c.pipe_parallel_size ?? 0) * (c.model_parallel_size ?? 1);
    const world = dp !== undefined ? dp * perReplica : (c.global_num_gpus ?? perReplica);
    const config = {
      ...resolved.config,
      ...batchForDataParallel(resolved, world / perReplica),
      global_num_gpus: world,
    } as Record<string, unknown>;
    const { input, warnings } = planInputFromConfig(config, { world });
    const plan = planJson(makePlan(input)) as unknown as Record<string, unknown>;
    return { config, plan, warnings: [...resolved.warnings, ...warnings] };
  } catch (e) {
    throw badRequest('invalid_plan', (e as Error).message);
  }
}

/** The parts of a plan the coordinator reads, checked once. */
export interface PlanView {
  tp: number;
  pp: number;
  dp: number;
  world: number;
  groups: { tp: number[][]; pp: number[][]; dp: number[][] };
  /** [start, end) layers of each pipeline stage */
  stageLayers: { start: number; end: number }[];
  microBatchSize: number;
  gradientAccumulationSteps: number;
  seqLength: number;
}

export function planView(plan: Record<string, unknown>, config: Record<string, unknown>): PlanView {
  const p = plan;
  const num = (v: unknown, what: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw new Error(`plan: ${what} is not a non-negative integer (${JSON.stringify(v)})`);
    return v;
  };
  const tp = num(p.tp, 'tp'),
    pp = num(p.pp, 'pp'),
    dp = num(p.dp, 'dp');
  const stages: unknown[] = Array.isArray(p.stages) ? p.stages : [];
  if (stages.length !== pp) throw new Error(`plan: ${stages.length} stages for pp=${pp}`);
  const stageLayers = stages.map((s, i) => layersOf(s, i));
  return {
    tp,
    pp,
    dp,
    world: num(p.world ?? tp * pp * dp, 'world'),
    groups: p.groups as PlanView['groups'],
    stageLayers,
    microBatchSize: num(p.train_micro_batch_size_per_gpu, 'micro batch size'),
    gradientAccumulationSteps: num(p.gradient_accumulation_steps, 'gradient accumulation steps'),
    seqLength: num(config.seq_length ?? 0, 'seq_length'),
  };
}

function layersOf(stage: unknown, i: number): { start: number; end: number } {
  const s = stage as Record<string, unknown>;
  if (Array.isArray(s.layers) && s.layers.length === 2)
    return { start: s.layers[0] as number, end: s.layers[1] as number };
  if (typeof s.start === 'number' && typeof s.end === 'number') return { start: s.start, end: s.end };
  if (typeof s.firstLayer === 'number' && typeof s.numLayers === 'number')
    return { start: s.firstLayer, end: s.firstLayer + s.numLayers };
  throw new Error(`plan: stage ${i} has no layer range (${JSON.stringify(stage).slice(0, 200)})`);
}

export function coordsOf(view: PlanView, rank: number): { tp: number; pp: number; dp: number } {
  const { tp, pp, dp } = coordOf(view, rank);
  return { tp, pp, dp };
}

/** Every rank this rank exchanges data with: its TP and DP groups and its pipeline neighbours,
 *  the first and last stage counting as neighbours (the pipeline's ring all-reduces of the loss
 *  and gradient norm, and the tied-embedding gradient sum, close the ring there). */
export function peersOf(view: PlanView, rank: number): number[] {
  const mine = (groups: number[][]) => groups.find((g) => g.includes(rank)) ?? [rank];
  const pipe = mine(view.groups.pp);
  const at = pipe.indexOf(rank),
    n = pipe.length;
  const set = new Set([...mine(view.groups.tp), ...mine(view.groups.dp), pipe[(at + n - 1) % n], pipe[(at + 1) % n]]);
  set.delete(rank);
  set.delete(undefined as never);
  return [...set].sort((a, b) => a - b);
}

export function assignmentFor(
  view: PlanView,
  run: { id: string; config: Record<string, unknown>; plan: Record<string, unknown> },
  who: { participantId: string; peerId: string },
  rank: number,
): Assignment {
  const coords = coordsOf(view, rank);
  const mine = (groups: number[][]) => groups.find((g) => g.includes(rank)) ?? [rank];
  return {
    runId: run.id,
    participantId: who.participantId,
    peerId: who.peerId,
    rank,
    coords,
    sizes: { tp: view.tp, pp: view.pp, dp: view.dp, world: view.world },
    groups: { tp: mine(view.groups.tp), pp: mine(view.groups.pp), dp: mine(view.groups.dp) },
    layers: view.stageLayers[coords.pp],
    shard: { index: coords.tp, count: view.tp },
    data: {
      dpRank: coords.dp,
      dpSize: view.dp,
      microBatchSize: view.microBatchSize,
      gradientAccumulationSteps: view.gradientAccumulationSteps,
      seqLength: view.seqLength,
    },
    config: run.config,
    plan: run.plan,
  };
}

/** The layout a plan view describes (the configured one for the run's own plan). */
export function configuredLayout(view: PlanView): ElasticLayout {
  return { tp: view.tp, pp: view.pp, dp: view.dp, accum: view.gradientAccumulationSteps };
}

/** The plan view of `layout` (e.g. fewer replicas with more accumulation), cached by run and layout. */
export function layoutView(
  run: { id: string; config: Record<string, unknown>; plan: Record<string, unknown> },
  layout: ElasticLayout,
  cache: Map<string, PlanView>,
): PlanView {
  const key = `${run.id}:${layout.tp}.${layout.pp}.${layout.dp}.${layout.accum}`;
  let v = cache.get(key);
  if (!v) {
    const config = configFor(run.config as unknown as TrainConfig, layout) as Record<string, unknown>;
    const world = layout.tp * layout.pp * layout.dp;
    const { input } = planInputFromConfig(config, { world });
    cache.set(key, (v = planView(planJson(makePlan(input)) as unknown as Record<string, unknown>, config)));
  }
  return v;
}
