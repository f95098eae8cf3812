// Mixed precision's bytes on the wire, measured at the transport (WebGPU through Dawn, every rank
// in this process over loopback): the same layout trained in f32 and in bf16, each message sent
// recorded with its collective. ZeRO's gradient reduce-scatter and parameter all-gathers (stages
// 1–3) and sequence parallelism's all-gather / reduce-scatter and replicated-gradient sum send,
// message for message, exactly half of f32's bytes in bf16; the scalars (norm, overflow flag) and
// the vocab-parallel loss's log-sum-exp stay f32.
import { describe, expect, it } from 'vitest';
import { createLoopbackWorld } from '../../comm/loopback';
import { resolveConfig } from '../../config/resolve';
import { defaultCorpus } from '../../data/corpus';
import { sharedTestContext } from '../../gpu/test-context';
import type { TrainEvent } from '../events';
import type { TrainConfig } from '../setup';
import { directComm } from './rank-comm';
import { trainRank } from './rank-loop';

const base = {
  num_layers: 2,
  hidden_size: 32,
  num_attention_heads: 4,
  seq_length: 16,
  train_micro_batch_size_per_gpu: 2,
  gradient_accumulation_steps: 2,
  train_iters: 2,
  eval_interval: 2,
  eval_iters: 1,
  tokenizer_type: 'CharLevelTokenizer',
  optimizer: { type: 'Adam', params: { lr: 3e-3 } },
  hidden_dropout: 0,
  attention_dropout: 0,
  warmup: 0,
  sample_tokens: 0,
};

/** "dp[0,2]:reduceScatter" from "dp[0,2]:reduceScatter#3/rs0"; "tp[0,1]:sum" for the TP sums'
 *  own tags ("tp[0,1]:step0:4/rs0"). */
function collectiveOf(tag: string): string {
  const plain = /^(.*):(allGather|allReduce|reduceScatter|broadcast|barrier)#/.exec(tag);
  if (plain) return `${plain[1]}:${plain[2]}`;
  const sum = /^(tp\[[\d,]+\]):/.exec(tag);
  return sum ? `${sum[1]}:sum` : tag.replace(/[#/].*$/, '');
}

/** Every message each rank sent: bytes by collective. */
async function traffic(change: Record<string, unknown>, world: number) {
  const config = resolveConfig([{ file: 'test', data: { ...base, ...change } }]).config as unknown as TrainConfig;
  const text = (await defaultCorpus()).slice(0, 100_000);
  const ctx = await sharedTestContext();
  const loop = createLoopbackWorld(world);
  const sent = loop.transports.map(() => new Map<string, number[]>());
  loop.transports.forEach((t, rank) => {
    const send = t.send.bind(t);
    t.send = (to, tag, data, opts) => {
      const key = collectiveOf(tag);
      const list = sent[rank].get(key) ?? [];
      list.push(data.byteLength);
      sent[rank].set(key, list);
      return send(to, tag, data, opts);
    };
  });
  const events = loop.transports.map(() => [] as TrainEvent[]);
  const out = await Promise.all(
    loop.transports.map((t, rank) =>
      trainRank(ctx, config, { kind: 'text', text }, { comm: directComm(t), rank, world }, (e) => events[rank].push(e)),
    ),
  );
  const losses = events[0].flatMap((e) => (e.kind === 'step' ? [e.loss] : []));
  return { sent, losses, validLoss: out.map((o) => o.validLoss) };
}

const total = (xs: number[] | undefined) => (xs ?? []).reduce((a, b) => a + b, 0);
const sorted = (xs: number[] | undefined) => [...(xs ?? [])].sort((a, b) => a - b);

/** Every message of `key` on every rank: bf16's bytes are f32's halved (same messages, sorted). */
function expectHalved(f32: Map<string, number[]>[], bf16: Map<string, number[]>[], key: RegExp): number {
  let bytes = 0;
  f32.forEach((m, rank) => {
    for (const [k, sizes] of m) {
      if (!key.test(k)) continue;
      expect(sorted(bf16[rank].get(k)), `rank ${rank} ${k}`).toEqual(sorted(sizes).map((b) => b / 2));
      bytes += total(sizes);
    }
  });
  expect(bytes, `${key}: some messages`).toBeGreaterThan(0);
  return bytes;
}

/** Every message of `key`: whole f32 values (one of 4 bytes each: [Σ g², overflow flag] over two ranks). */
function expectF32Scalars(sent: Map<string, number[]>[], key: RegExp): void {
  const sizes = sent.flatMap((m) => [...m].filter(([k]) => key.test(k)).flatMap(([, s]) => s));
  expect(sizes.length).toBeGreaterThan(0);
  expect(new Set(sizes)).toEqual(new Set([4]));
}

describe('16-bit collectives: bytes at the transport', { timeout: 300_000 }, () => {
  it('TP2 with sequence parallelism × DP2 with ZeRO-2: ZeRO and sequence-parallel traffic halved', async () => {
    const layout = {
      model_parallel_size: 2,
      sequence_parallel: true,
      global_num_gpus: 4,
      zero_optimization: { stage: 2 },
    };
    const f32 = await traffic(layout, 4);
    const bf16 = await traffic({ ...layout, bf16: { enabled: true } }, 4);
    const zeroGrads = expectHalved(f32.sent, bf16.sent, /^dp\[[\d,]+\]:reduceScatter$/);
    const zeroParams = expectHalved(f32.sent, bf16.sent, /^dp\[[\d,]+\]:allGather$/);
    const seqRs = expectHalved(f32.sent, bf16.sent, /^tp\[[\d,]+\]:reduceScatter$/);
    const seqGrads = expectHalved(f32.sent, bf16.sent, /^tp\[[\d,]+\]:seq-grads:allReduce$/);
    expectF32Scalars(bf16.sent, /:gradnorm:allReduce$/);
    // the TP all-gathers: the sequence's activations halved, the loss's log-sum-exp (B·T values) not
    const lse = 4 * base.train_micro_batch_size_per_gpu * base.seq_length;
    f32.sent.forEach((m, rank) => {
      for (const [k, sizes] of m) {
        if (!/^tp\[[\d,]+\]:allGather$/.test(k)) continue;
        const want = sizes.map((b) => (b === lse ? b : b / 2));
        expect(sorted(bf16.sent[rank].get(k)), `rank ${rank} ${k}`).toEqual(sorted(want));
        expect(sizes.filter((b) => b !== lse).length).toBeGreaterThan(0);
      }
    });
    expect(new Set(bf16.validLoss).size).toBe(1);
    console.log(
      `[half traffic] TP2+SP × DP2 ZeRO-2, 2 steps, rank sums f32 → bf16 bytes: ZeRO grads ${zeroGrads} → ${zeroGrads / 2}, ` +
        `ZeRO params ${zeroParams} → ${zeroParams / 2}, SP reduce-scatter ${seqRs} → ${seqRs / 2}, ` +
        `SP grads ${seqGrads} → ${seqGrads / 2}`,
    );
  });

  for (const stage of [1, 3])
    it(`DP2 with ZeRO-${stage}: gradient reduce-scatter and parameter gathers halved`, async () => {
      const layout = { global_num_gpus: 2, zero_optimization: { stage } };
      const f32 = await traffic(layout, 2);
      const bf16 = await traffic({ ...layout, bf16: { enabled: true } }, 2);
      const grads = expectHalved(f32.sent, bf16.sent, /^dp\[[\d,]+\]:reduceScatter$/);
      const params = expectHalved(f32.sent, bf16.sent, stage === 3 ? /:params:allGather$/ : /^dp\[[\d,]+\]:allGather$/);
      expect(new Set(bf16.validLoss).size).toBe(1);
      console.log(
        `[half traffic] DP2 ZeRO-${stage}, 2 steps, rank sums f32 → bf16 bytes: grads ${grads} → ${grads / 2}, ` +
          `params ${params} → ${params / 2}`,
      );
    });
});
