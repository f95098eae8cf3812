import { describe, expect, it } from 'vitest';
import { generateText, generateTokens, type NextLogits, windowedNextLogits } from './generate';

// A "model" over 5 tokens whose next token is (sum of the context) mod 5, with a margin.
const contexts: number[][] = [];
const model: NextLogits = async (ctx) => {
  contexts.push([...ctx]);
  const next = ctx.reduce((a, b) => a + b, 0) % 5;
  return Float32Array.from({ length: 7 }, (_, i) => (i === next ? 5 : 0));
};

describe('generateTokens', () => {
  it('feeds back each chosen token, giving the model at most `window` tokens of context', async () => {
    contexts.length = 0;
    const out = await generateTokens([1, 2], model, {
      maxNewTokens: 4,
      window: 3,
      seed: 1,
      temperature: 0,
      topK: 0,
      vocabSize: 5,
    });
    // 1+2=3; 1+2+3=6→1; window [2,3,1]=6→1; window [3,1,1]=5→0
    expect(out).toEqual([3, 1, 1, 0]);
    expect(contexts).toEqual([
      [1, 2],
      [1, 2, 3],
      [2, 3, 1],
      [3, 1, 1],
    ]);
  });

  it('stops after the stop token, and is reproducible for a seed', async () => {
    const o = { maxNewTokens: 10, window: 8, temperature: 0, topK: 0, vocabSize: 5, seed: 1, stopToken: 1 };
    expect(await generateTokens([1, 2], model, o)).toEqual([3, 1]);
    const sampled = { ...o, temperature: 3, stopToken: undefined, seed: 42 };
    const a = await generateTokens([4], model, sampled);
    expect(await generateTokens([4], model, sampled)).toEqual(a);
    expect(a.every((t) => t >= 0 && t < 5)).toBe(true);
  });

  it('needs a prompt token', async () => {
    await expect(
      generateTokens([], model, { maxNewTokens: 1, window: 4, seed: 1, temperature: 0, topK: 0, vocabSize: 5 }),
    ).rejects.toThrow('no tokens');
  });
});

describe('windowedNextLogits and generateText', () => {
  it('pads the context to the window and reads the last real position; an empty prompt starts at eod', async () => {
    const seen: [number[], number][] = [];
    const next = windowedNextLogits(4, async (tokens, position) => {
      seen.push([[...tokens], position]);
      return Float32Array.from({ length: 3 }, (_, i) => (i === (position + 1) % 3 ? 1 : 0));
    });
    const tok = { eod: 2, encode: (s: string) => [...s].map(Number), decode: (ids: readonly number[]) => ids.join('') };
    const r = await generateText(tok, '', next, {
      maxNewTokens: 3,
      window: 4,
      seed: 1,
      temperature: 0,
      topK: 0,
      vocabSize: 3,
    });
    expect(r.tokens).toEqual([1, 2, 0]);
    expect(r.text).toBe('120');
    expect(seen).toEqual([
      [[2, 0, 0, 0], 0],
      [[2, 1, 0, 0], 1],
      [[2, 1, 2, 0], 2],
    ]);
    await expect(next([1, 1, 1, 1, 1])).rejects.toThrow('window is 1..4');
  });
});
