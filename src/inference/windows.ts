// Evaluation windows over a token stream: every token after the first is predicted once, from
// the tokens before it in its window. Window w covers inputs [wT, wT + T) and targets
// [wT + 1, wT + T + 1); the last window is padded (inputs 0, targets −1 = ignored). Causal
// attention means the padding never changes the real positions' logits.

export interface EvalWindow {
  /** first input position in the stream */
  start: number;
  /** how many targets are real (the rest is padding) */
  count: number;
  inputs: Int32Array; // (T)
  targets: Int32Array; // (T), −1 where padded
}

export function evalWindows(tokens: ArrayLike<number>, T: number): EvalWindow[] {
  if (!Number.isInteger(T) || T < 1) throw new Error(`seq_length must be >= 1, got ${T}`);
  const predicted = tokens.length - 1;
  const out: EvalWindow[] = [];
  for (let start = 0; start < predicted; start += T) {
    const count = Math.min(T, predicted - start);
    const inputs = new Int32Array(T),
      targets = new Int32Array(T).fill(-1);
    for (let t = 0; t < count; t++) {
      inputs[t] = tokens[start + t];
      targets[t] = tokens[start + t + 1];
    }
    out.push({ start, count, inputs, targets });
  }
  return out;
}

/** Windows grouped into batches of B rows (the last batch padded with empty rows). */
export function batchWindows(windows: readonly EvalWindow[], B: number, T: number): EvalWindow[][] {
  const batches: EvalWindow[][] = [];
  for (let i = 0; i < windows.length; i += B) {
    const batch = windows.slice(i, i + B);
    while (batch.length < B)
      batch.push({ start: -1, count: 0, inputs: new Int32Array(T), targets: new Int32Array(T).fill(-1) });
    batches.push(batch);
  }
  return batches;
}
