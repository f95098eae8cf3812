// The outer optimizer of local SGD / DiLoCo, on plain arrays (it is the CPU reference and the
// implementation both). Δ is the averaged pseudo-gradient (start − end parameters, averaged
// over the data-parallel replicas); `start` is the shared point every round begins from.
//   nesterov (PyTorch SGD with nesterov=True, no dampening, as DiLoCo's outer optimizer):
//       b ← μ·b + Δ;   start ← start − lr·(Δ + μ·b)
//   sgd (heavy-ball momentum):
//       b ← μ·b + Δ;   start ← start − lr·b
// With lr 1 and μ 0 both give start − Δ = the replicas' mean end point: federated averaging,
// and with one inner step of a gradient-linear optimizer (SGD), synchronous data parallelism.

export type OuterType = 'nesterov' | 'sgd';

export interface OuterHyper {
  type: OuterType;
  lr: number;
  momentum: number;
}

/** In place over equal-length arrays; `momentum` may be null when hyper.momentum is 0. */
export function outerStep(
  start: Float32Array,
  momentum: Float32Array | null,
  delta: Float32Array,
  hyper: OuterHyper,
): void {
  const { lr, momentum: mu } = hyper;
  if (start.length !== delta.length || (momentum && momentum.length !== delta.length))
    throw new Error(
      `outerStep: start ${start.length}, momentum ${momentum?.length ?? '-'} and delta ${delta.length} values differ`,
    );
  if (mu !== 0 && !momentum) throw new Error(`outerStep: momentum ${mu} needs a momentum buffer`);
  if (mu === 0 || !momentum) {
    for (let i = 0; i < start.length; i++) start[i] = start[i] - lr * delta[i];
    return;
  }
  const nesterov = hyper.type === 'nesterov';
  for (let i = 0; i < start.length; i++) {
    const b = mu * momentum[i] + delta[i];
    momentum[i] = b;
    start[i] = start[i] - lr * (nesterov ? delta[i] + mu * b : b);
  }
}

/** Δ = start − end, elementwise, into `out`. */
export function pseudoGradient(
  start: Float32Array,
  end: Float32Array,
  out = new Float32Array(end.length),
): Float32Array {
  if (start.length !== end.length || out.length !== end.length)
    throw new Error(`pseudoGradient: start ${start.length}, end ${end.length} and out ${out.length} values differ`);
  for (let i = 0; i < end.length; i++) out[i] = start[i] - end[i];
  return out;
}
