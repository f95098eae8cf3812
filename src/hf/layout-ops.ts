// Reorderings between tabtron's tensor layouts and Hugging Face's.
//
// QKV: tabtron's fused projection (like NeoX's and HF GPTNeoX's query_key_value) orders its
// 3C output rows per head: row h·3hd + j·hd + d is part j (0 q, 1 k, 2 v), feature d of head h
// — Q, K and V interleaved per head. GPT-2's c_attn orders them split: all of Q, then K, then
// V (row j·C + h·hd + d). Linear weights: tabtron (out, in) as torch.nn.Linear; GPT-2's Conv1D
// stores (in, out).

/** (rows, cols) → (cols, rows) */
export function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  if (a.length !== rows * cols) throw new Error(`transpose: ${a.length} values for (${rows}, ${cols})`);
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** Row index in the split layout [Q | K | V] of row `i` of the per-head interleaved layout. */
export function splitRowOf(i: number, H: number, hd: number): number {
  const h = Math.floor(i / (3 * hd)),
    j = Math.floor((i % (3 * hd)) / hd),
    d = i % hd;
  return j * H * hd + h * hd + d;
}

/** Rows of `a` ((3·H·hd, cols), interleaved per head) reordered to [Q | K | V]. */
export function qkvInterleavedToSplit(a: Float32Array, H: number, hd: number, cols = 1): Float32Array {
  return permuteRows(a, H, hd, cols, false);
}

/** Inverse of qkvInterleavedToSplit. */
export function qkvSplitToInterleaved(a: Float32Array, H: number, hd: number, cols = 1): Float32Array {
  return permuteRows(a, H, hd, cols, true);
}

function permuteRows(a: Float32Array, H: number, hd: number, cols: number, inverse: boolean): Float32Array {
  const rows = 3 * H * hd;
  if (a.length !== rows * cols) throw new Error(`qkv: ${a.length} values for (${rows}, ${cols})`);
  const out = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) {
    const s = splitRowOf(i, H, hd);
    const [from, to] = inverse ? [s, i] : [i, s];
    out.set(a.subarray(from * cols, (from + 1) * cols), to * cols);
  }
  return out;
}
