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

/** A weight's random draw: normal with mean 0, or uniform on [-bound, bound). */
export type WeightInit = { kind: 'normal'; std: number } | { kind: 'uniform'; bound: number };

/** How a weight (out, in) = (fanOut, fanIn) is drawn under NeoX's named method (biases and norms
 *  are not weights). Xavier's fans are torch's: fan_in = in, fan_out = out, of the whole tensor. */
export function weightInit(
  kind: InitKind,
  spec: Pick<ModelSpec, 'initStd' | 'L' | 'C'>,
  fanIn: number,
  fanOut: number,
): WeightInit {
  const normal = (std: number): WeightInit => ({ kind: 'normal', std });
  switch (kind) {
    case 'normal':
      return normal(spec.initStd);
    case 'scaled_normal':
      return normal(spec.initStd / Math.sqrt(2 * spec.L));
    case 'small_init':
      return normal(Math.sqrt(2 / (5 * spec.C)));
    case 'wang_init':
      return normal(2 / spec.L / Math.sqrt(spec.C));
    case 'xavier_normal':
      return normal(Math.sqrt(2 / (fanIn + fanOut)));
    case 'xavier_uniform':
      return { kind: 'uniform', bound: Math.sqrt(6 / (fanIn + fanOut)) };
    case 'orthogonal':
      return normal(spec.initStd); // not implemented: the config warnings say so
  }
}
