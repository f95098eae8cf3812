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
  /** transformer layer index, for transformer items */
  layer?: number;
}

export function normParams(norm: NormKind, hidden: number): number {
  switch (norm) {
    case 'layernorm':
      return 2 * hidden;
    case 'rmsnorm':
      return hidden;
    case 'scalenorm':
      return 1;
  }
}

export function transformerLayerParams(m: ModelShape, tp: number): number {
  const h = m.hidden,
    f = m.ffnHidden;
  const qkv = (3 * h * h + 3 * h) / tp;
  const dense = (h * h) / tp + h;
  const up = (f * h + f) / tp;
  const down = (h * f) / tp + h;
  return 2 * normParams(m.norm, h) + qkv + dense + up + down;
}

export function embeddingParams(m: ModelShape, tp: number): number {
  return (m.paddedVocab * m.hidden) / tp + (m.posEmb === 'learned' ? m.maxPositions * m.hidden : 0);
}

/** The head's own weights; a tied head reuses the embedding's, but a pipelined run keeps a
 *  copy of the tied weight on the last stage (DeepSpeed's tied modules), hence `pipelined`. */
export function headParams(m: ModelShape, tp: number, pipelined: boolean): number {
  return m.tiedEmbeddings && !pipelined ? 0 : (m.paddedVocab * m.hidden) / tp;
}

export function pipeItems(m: ModelShape, tp: number, pipelined: boolean): PipeItem[] {
  const layers: PipeItem[] = Array.from({ length: m.numLayers }, (_, l) => ({
    name: `layer ${l}`,
    type: 'ParallelTransformerLayerPipe',
    params: transformerLayerParams(m, tp),
    layer: l,
  }));
  return [
    { name: 'embedding', type: 'EmbeddingPipe', params: embeddingParams(m, tp) },
    ...layers,
    { name: 'final norm', type: 'NormPipe', params: normParams(m.norm, m.hidden) },
    { name: 'head', type: 'ParallelLinearPipe', params: headParams(m, tp, pipelined) },
  ];
}

/** All parameters of the model, counted once (no TP split, no pipeline copies). */
export function totalParams(m: ModelShape): number {
  return pipeItems(m, 1, false).reduce((n, it) => n + it.params, 0);
}
