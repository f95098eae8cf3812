// The attention paths a trainer can take without attention dropout (model/activations.ts
// fusionFor), on this machine's WebGPU: every layer's probabilities kept ('stored'), or only each
// row's log-sum-exp with the products run through one shared (B·h, T, T) scratch and the
// probabilities put back into it in the backward ('recompute': by the matmul epilogue
// 'probsFromLse' where T allows vec4 products, else the product and the softmax again), or the
// fused kernels where this adapter runs them. Each gives the stored path's losses, gradients and
// evaluation loss within f32 rounding, over steps that update the weights, and keeps fewer bytes.
import { describe, expect, it } from 'vitest';
import { fusedAttentionSupported } from '../gpu/kernels/fused-attention';
import { sharedTestContext } from '../gpu/test-context';
import type { AttentionBackward } from '../model/activations';
import { patternBatch, tinyConfig, tinyTrainer } from './tiny-trainer';
import { maxRelDiff } from '../util/max-rel-diff';

async function train(seq: number, attentionBackward: AttentionBackward, recomputeLayers = 0) {
  const c = tinyConfig({ seq_length: seq, hidden_dropout: 0, attention_dropout: 0, warmup: 0, train_iters: 3 });
  const t = tinyTrainer(await sharedTestContext(), c, { gradAccumSteps: 2, attentionBackward, recomputeLayers });
  const batch = (salt: number) => patternBatch(t.model.spec, 2, salt);
  const losses: number[] = [];
  let grads: Float32Array | null = null;
  for (let step = 0; step < 3; step++) {
    losses.push((await t.trainStep([batch(2 * step), batch(2 * step + 1)])).loss);
    grads ??= await t.readGrads();
  }
  const validLoss = await t.evaluate([batch(99)]);
  return { losses, grads: grads!, validLoss, activationBytes: t.memory().activationBytes };
}

describe('attention without kept probabilities = attention with them', { timeout: 300_000 }, () => {
  // 32: the epilogue recomputes the probabilities; 30: no vec4 products, the softmax runs again
  for (const seq of [32, 30]) {
    it(`T = ${seq}: recomputing backward`, async () => {
      const stored = await train(seq, 'stored');
      const recompute = await train(seq, 'recompute');
      expect(maxRelDiff(recompute.grads, stored.grads)).toBeLessThan(1e-5);
      expect(maxRelDiff(recompute.losses, stored.losses)).toBeLessThan(1e-5);
      expect(recompute.losses[2]).not.toBe(recompute.losses[0]); // the steps changed the weights
      expect(Math.abs(recompute.validLoss - stored.validLoss) / stored.validLoss).toBeLessThan(1e-5);
      // stored: each layer's (B·h, T, T) probabilities and one gradient of them; recompute: two shared buffers
      expect(recompute.activationBytes).toBeLessThan(stored.activationBytes);
    });
  }

  it('with activation recompute (each chunk’s forward runs again before its backward)', async () => {
    const stored = await train(32, 'stored');
    const both = await train(32, 'recompute', 1);
    expect(maxRelDiff(both.grads, stored.grads)).toBeLessThan(1e-5);
    expect(maxRelDiff(both.losses, stored.losses)).toBeLessThan(1e-5);
  });

  it('fused kernels, where this adapter runs them', async (test) => {
    if (!fusedAttentionSupported(await sharedTestContext(), 8)) test.skip();
    const stored = await train(32, 'stored');
    const fused = await train(32, 'fused');
    expect(maxRelDiff(fused.grads, stored.grads)).toBeLessThan(1e-5);
    expect(maxRelDiff(fused.losses, stored.losses)).toBeLessThan(1e-5);
  });
});
