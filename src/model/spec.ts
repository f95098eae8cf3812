// The GPT's architecture as plain numbers, derived from a NeoX config.
// Legend used across src/model: B batch, T sequence, C hidden, H heads, hd head dim,
// F MLP inner size, V padded vocabulary, L layers, N = B*T rows.

export type NormKind = 'layernorm' | 'rmsnorm';
export type PosEmbKind = 'learned' | 'rotary' | 'none';
export type InitKind =
  | 'normal'
  | 'scaled_normal'
  | 'small_init'
  | 'wang_init'
  | 'xavier_normal'
  | 'xavier_uniform'
  | 'orthogonal';

export interface ModelSpec {
  V: number;
  C: number;
  L: number;
  H: number;
  hd: number;
  F: number;
  T: number;
  maxPos: number;
  norm: NormKind;
  normEps: number;
  posEmb: PosEmbKind;
  rotaryDims: number;
  rotaryBase: number;
  tied: boolean;
  parallelResidual: boolean;
  hiddenDropout: number;
  attentionDropout: number;
  initStd: number;
  initMethod: InitKind;
  outputInitMethod: InitKind;
  seed: number;
}

/** Padded vocabulary as NeoX computes it: round up to a multiple of divisibleBy × tp. */
export function padVocab(vocab: number, divisibleBy: number, tp = 1): number {
  const m = divisibleBy * tp;
  return Math.ceil(vocab / m) * m;
}

/** Standard deviation of a weight initialised with NeoX's named method (biases and norms are not). */
export function initStd(
  kind: InitKind,
  spec: Pick<ModelSpec, 'initStd' | 'L' | 'C'>,
  fanIn: number,
  fanOut: number,
): number {
  switch (kind) {
    case 'normal':
      return spec.initStd;
    case 'scaled_normal':
      return spec.initStd / Math.sqrt(2 * spec.L);
    case 'small_init':
      return Math.sqrt(2 / (5 * spec.C));
    case 'wang_init':
      return 2 / spec.L / Math.sqrt(spec.C);
    case 'xavier_normal':
      return Math.sqrt(2 / (fanIn + fanOut));
    case 'xavier_uniform':
      return Math.sqrt(2 / (fanIn + fanOut)); // drawn normal with the same variance
    case 'orthogonal':
      return spec.initStd; // approximated by a normal draw (documented limitation)
  }
}
