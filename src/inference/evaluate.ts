// Mean next-token cross-entropy of a token stream (see windows.ts) on a ForwardModel, and the
// model as the NextLogits function generation needs.

import type { ForwardModel } from './forward-model';
import { type NextLogits, windowedNextLogits } from './generate';
import { batchWindows, evalWindows, type EvalWindow } from './windows';

export interface EvalResult {
  /** predicted tokens (the stream's length − 1) */
  tokens: number;
  loss: number;
  perplexity: number;
  windows: number;
}

export interface EvalHooks {
  /** after each batch: its windows (rows b of the model's B) and the model, whose logits hold the batch's */
  onBatch?: (batch: readonly EvalWindow[], model: ForwardModel, done: number, total: number) => Promise<void> | void;
}

export async function evaluateTokens(
  model: ForwardModel,
  tokens: ArrayLike<number>,
  hooks: EvalHooks = {},
): Promise<EvalResult> {
  const T = model.spec.T,
    B = model.B;
  const windows = evalWindows(tokens, T);
  if (windows.length === 0) throw new Error(`the text has ${tokens.length} token(s); at least 2 are needed`);
  const batches = batchWindows(windows, B, T);
  let sum = 0,
    count = 0;
  for (const [i, batch] of batches.entries()) {
    const inputs = new Int32Array(B * T),
      targets = new Int32Array(B * T);
    batch.forEach((w, b) => {
      inputs.set(w.inputs, b * T);
      targets.set(w.targets, b * T);
    });
    await model.forward(inputs, targets);
    const losses = await model.losses();
    batch.forEach((w, b) => {
      for (let t = 0; t < w.count; t++) sum += losses[b * T + t];
      count += w.count;
    });
    await hooks.onBatch?.(batch, model, i + 1, batches.length);
  }
  const loss = sum / count;
  return { tokens: count, loss, perplexity: Math.exp(loss), windows: windows.length };
}

/** The model (B = 1) as NextLogits: the context padded to T, the logits at its last position. */
export function nextLogitsOf(model: ForwardModel): NextLogits {
  if (model.B !== 1) throw new Error('nextLogitsOf: the model must have B = 1');
  return windowedNextLogits(model.spec.T, async (tokens, position) => {
    await model.forward(tokens);
    return model.logitsRow(position);
  });
}
