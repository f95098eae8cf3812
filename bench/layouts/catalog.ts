// The layouts bench/train-layouts.ts runs, and the NeoX config overrides that make each one:
// the base ones at `micro batches` accumulation steps, then the pipeline efficiency sweep
// P ∈ {2, 4} × m ∈ {4, 8, 16} (m = gradient_accumulation_steps = microbatches per step).

export interface Layout {
  name: string;
  tp: number;
  pp: number;
  dp: number;
  /** microbatches per step (gradient_accumulation_steps) */
  m: number;
  world: number;
  /** Megatron's sequence parallelism inside the TP group */
  seq?: boolean;
  /** zero_optimization.stage (default 0) */
  zero?: number;
  /** run only when named in --layouts */
  optIn?: boolean;
}

export interface ModelSize {
  layers: number;
  hidden: number;
  heads: number;
  seq: number;
  micro: number;
  /** NeoX pipe_partition_method (default: the config's, type:transformer) */
  partition?: string;
}

export function catalog(baseM: number): Layout[] {
  const mk = (name: string, tp: number, pp: number, dp: number, m: number): Layout => ({
    name,
    tp,
    pp,
    dp,
    m,
    world: tp * pp * dp,
  });
  return [
    mk('1rank', 1, 1, 1, baseM),
    mk('dp2', 1, 1, 2, baseM),
    mk('tp2', 2, 1, 1, baseM),
    mk('tp2-pp2', 2, 2, 1, baseM),
    { ...mk('tp2-sp', 2, 1, 1, baseM), seq: true },
    { ...mk('tp2-pp2-sp', 2, 2, 1, baseM), seq: true },
    mk('pp2-dp2', 1, 2, 2, baseM),
    ...[2, 4].flatMap((P) => [4, 8, 16].map((m) => mk(`pp${P}-m${m}`, 1, P, 1, m))),
    // ZeRO stages over two replicas (not in `all`: pick them by name)
    ...[1, 2, 3].map((zero) => ({ ...mk(`dp2-zero${zero}`, 1, 1, 2, baseM), zero, optIn: true })),
  ];
}

/** Picks layouts by name (comma-separated; `all` or empty = every one), in catalog order. */
export function pickLayouts(all: Layout[], filter: string | undefined): Layout[] {
  if (!filter || filter === 'all') return all.filter((l) => !l.optIn);
  const want = filter
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = want.filter((w) => !all.some((l) => l.name === w));
  if (unknown.length > 0)
    throw new Error(`unknown layout ${unknown.join(', ')}; known: ${all.map((l) => l.name).join(', ')}`);
  return all.filter((l) => want.includes(l.name));
}

/** Overrides on configs/tiny.yml for one layout; `steps` = every step the run takes. */
export function layoutOverrides(l: Layout, size: ModelSize, steps: number): Record<string, unknown> {
  return {
    num_layers: size.layers,
    hidden_size: size.hidden,
    num_attention_heads: size.heads,
    seq_length: size.seq,
    max_position_embeddings: size.seq,
    train_micro_batch_size_per_gpu: size.micro,
    gradient_accumulation_steps: l.m,
    model_parallel_size: l.tp,
    pipe_parallel_size: l.pp > 1 ? l.pp : 0,
    global_num_gpus: l.world,
    ...(size.partition ? { pipe_partition_method: size.partition } : {}),
    zero_optimization: { stage: l.zero ?? 0 },
    checkpoint_activations: false,
    sequence_parallel: !!l.seq,
    train_iters: steps,
    lr_decay_iters: steps,
    warmup: 0,
    // one validation batch before training and one after: no eval inside the measured steps
    eval_interval: steps + 1,
    eval_iters: 1,
  };
}
