// Parameter counts per tensor-parallel rank, from the shapes of a NeoX GPT (biases included):
//   per layer: 2 norms; QKV (3h×h + 3h, column-split); attention dense (h×h row-split + h bias,
//   replicated); MLP up (f×h + f, column-split); MLP down (h×f row-split + h, replicated)
//   → 12h² + 13h with f = 4h and layernorm, on one rank.
//   embeddings V×h (vocab-split) + learned positions (maxPos×h, replicated); final norm; head V×h
//   (vocab-split, no bias) unless tied to the embedding.
// The pipeline sees the model as DeepSpeed's layer list: embedding, L transformer layers,
// final norm, head; their NeoX class names are what `type:<regex>` partitions match.

export type NormKind = 'layernorm' | 'rmsnorm' | 'scalenorm';

export interface ModelShape {
  numLayers: number;
  hidden: number;
  heads: number;
  /** MLP inner size; NeoX uses 4·hidden */
  ffnHidden: number;
  paddedVocab: number;
  seqLength: number;
  maxPositions: number;
  posEmb: string;
  norm: NormKind;
  tiedEmbeddings: boolean;
}

export interface PipeItem {
  name: string;
  /** NeoX's class name for the layer, matched by pipe-partition-method type:<regex> */
  type: 'EmbeddingPipe' | 'ParallelTransformerLayerPipe' | 'NormPipe' | 'ParallelLinearPipe';
  /** parameters held by one tensor-parallel rank */
  params: number;
  /** elements of each of its tensors on one tensor-parallel rank (sum: params) */
  tensors: number[];
  /** transformer layer index, for transformer items */
  layer?: number;
}

/** Elements each tensor starts on in a rank's flat parameter vector (model/params.ts ALIGN_ELEMS). */
export const FLAT_ALIGN = 64;

/** Elements the tensors take in a flat vector, each padded to FLAT_ALIGN. */
export function paddedElems(tensors: readonly number[]): number {
  return tensors.reduce((n, t) => n + Math.ceil(t / FLAT_ALIGN) * FLAT_ALIGN, 0);
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

export function normTensors(norm: NormKind, hidden: number): number[] {
  switch (norm) {
    case 'layernorm':
      return [hidden, hidden];
    case 'rmsnorm':
      return [hidden];
    case 'scalenorm':
      return [1];
  }
}

export function normParams(norm: NormKind, hidden: number): number {
  return sum(normTensors(norm, hidden));
}

export function transformerLayerTensors(m: ModelShape, tp: number): number[] {
  const h = m.hidden,
    f = m.ffnHidden;
  const norm = normTensors(m.norm, h);
  const qkv = [(3 * h * h) / tp, (3 * h) / tp];
  const dense = [(h * h) / tp, h];
  const up = [(f * h) / tp, f / tp];
  const down = [(h * f) / tp, h];
  return [...norm, ...qkv, ...dense, ...norm, ...up, ...down];
}

export function transformerLayerParams(m: ModelShape, tp: number): number {
  return sum(transformerLayerTensors(m, tp));
}

export function embeddingTensors(m: ModelShape, tp: number): number[] {
  return [(m.paddedVocab * m.hidden) / tp, ...(m.posEmb === 'learned' ? [m.maxPositions * m.hidden] : [])];
}

export function embeddingParams(m: ModelShape, tp: number): number {
  return sum(embeddingTensors(m, tp));
}

/** The head's own weights; a tied head reuses the embedding's, but a pipelined run keeps a
 *  copy of the tied weight on the last stage (DeepSpeed's tied modules), hence `pipelined`. */
export function headTensors(m: ModelShape, tp: number, pipelined: boolean): number[] {
  return m.tiedEmbeddings && !pipelined ? [] : [(m.paddedVocab * m.hidden) / tp];
}

export function headParams(m: ModelShape, tp: number, pipelined: boolean): number {
  return sum(headTensors(m, tp, pipelined));
}

export function pipeItems(m: ModelShape, tp: number, pipelined: boolean): PipeItem[] {
  const item = (name: string, type: PipeItem['type'], tensors: number[], layer?: number): PipeItem => ({
    name,
    type,
    params: sum(tensors),
    tensors,
    ...(layer === undefined ? {} : { layer }),
  });
  const layer = transformerLayerTensors(m, tp);
  return [
    item('embedding', 'EmbeddingPipe', embeddingTensors(m, tp)),
    ...Array.from({ length: m.numLayers }, (_, l) => item(`layer ${l}`, 'ParallelTransformerLayerPipe', layer, l)),
    item('final norm', 'NormPipe', normTensors(m.norm, m.hidden)),
    item('head', 'ParallelLinearPipe', headTensors(m, tp, pipelined)),
  ];
}

/** All parameters of the model, counted once (no TP split, no pipeline copies). */
export function totalParams(m: ModelShape): number {
  return pipeItems(m, 1, false).reduce((n, it) => n + it.params, 0);
}
