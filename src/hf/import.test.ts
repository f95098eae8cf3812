// import-hf's pieces: the NeoX config it writes builds the same model, and a rank loading the
// checkpoint (as `load` does) gets the HF weights and trains from them (WebGPU, Dawn).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fsCheckpointStore } from '../checkpoint/fs-store';
import { SINGLE_RANK } from '../checkpoint/merge';
import { loadFromStore } from '../checkpoint/save-load';
import { sha256Hex } from '../checkpoint/sha256';
import { bits, randomModel, tinySpec } from '../checkpoint/test-fixtures';
import { resolveConfig } from '../config/resolve';
import { getTokenizer } from '../data/tokenizer';
import type { GpuContext } from '../gpu/context';
import { createNodeContext } from '../gpu/device-node';
import { ForwardModel } from '../inference/forward-model';
import { removeTempDirs, tempDir } from '../node/temp-dirs';
import { fullModel } from '../model/params';
import type { ModelSpec } from '../model/spec';
import { NO_TP } from '../model/tp-shard';
import { adamHyper, lrSchedule, modelSpec, type TrainConfig } from '../train/setup';
import { Trainer } from '../train/trainer';
import { randint } from '../util/rng';
import { tensorsToFlat } from './flat';
import { importCheckpoint } from './import';
import { divisibleByFor, neoxConfigFor } from './neox-config';
import type { Tensors } from './weights';

const spec: ModelSpec = tinySpec({
  V: 300,
  C: 24,
  H: 3,
  hd: 8,
  F: 40,
  L: 2,
  T: 16,
  maxPos: 16,
  posEmb: 'rotary',
  rotaryDims: 6,
  rotaryBase: 500,
  parallelResidual: true,
  tied: false,
  initMethod: 'normal',
  outputInitMethod: 'normal',
  seed: 1234,
});
const tensors: Tensors = new Map(
  [...randomModel(spec, 3)].map(([k, f]) => [k, { shape: [], data: f.param.map((x) => x * 0.3) }]),
);

describe('the NeoX config of an import', () => {
  it('pads the tokenizer to exactly the model vocabulary', () => {
    expect(divisibleByFor(50304, 'GPT2BPETokenizer')).toBe(128);
    expect(divisibleByFor(50257, 'GPT2BPETokenizer')).toBe(1);
    expect(divisibleByFor(512, 'CharLevelTokenizer')).toBe(512);
    expect(divisibleByFor(300, 'CharLevelTokenizer')).toBe(50);
    expect(() => divisibleByFor(100, 'CharLevelTokenizer')).toThrow(
      "vocab_size 100 is smaller than CharLevelTokenizer's 256",
    );
  });

  it('builds the imported model and takes training keys from the user; a clashing model key is named', () => {
    const user = { 'train-iters': 7, optimizer: { type: 'Adam', params: { lr: 0.003 } }, seq_length: 12 };
    const imp = importCheckpoint(spec, tensors, 'CharLevelTokenizer', '/ckpt', user, 'extra.yml');
    expect(imp.spec.T).toBe(12);
    expect(imp.config).toMatchObject({
      load: '/ckpt',
      train_iters: 7,
      make_vocab_size_divisible_by: 50,
      gpt_j_residual: true,
    });
    const resolved = resolveConfig([{ file: 'neox.yml', data: imp.config }]);
    expect(modelSpec(resolved.config as unknown as TrainConfig, getTokenizer('CharLevelTokenizer'))).toEqual(imp.spec);
    expect(() => neoxConfigFor(spec, 'CharLevelTokenizer', '/c', { 'hidden-size': 32 }, 'extra.yml')).toThrow(
      "extra.yml: hidden-size: 32 differs from the imported model's 24",
    );
  });
});

describe('loading an imported checkpoint (NeoX load) and fine-tuning it', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    ctx = await createNodeContext({ preferSwiftShader: true });
  });
  afterAll(() => {
    ctx?.device.destroy();
    removeTempDirs();
  });

  it("a rank gets the HF weights and Adam starts fresh; the first step's loss is the model's", async () => {
    const imp = importCheckpoint(spec, tensors, 'CharLevelTokenizer', '/x', {
      optimizer: { type: 'Adam', params: { lr: 0.003 } },
    });
    const dir = tempDir('tabtron-import-');
    const store = fsCheckpointStore(dir);
    await store.put(0, 'rank_00000.safetensors', imp.rankFile, {
      sha256: await sha256Hex(imp.rankFile),
      layout: SINGLE_RANK,
    });
    const c = resolveConfig([{ file: 'neox.yml', data: imp.config }]).config as unknown as TrainConfig;
    const s = modelSpec(c, getTokenizer('CharLevelTokenizer'));
    const st = await loadFromStore(store, { spec: s, stage: fullModel(s), tp: NO_TP });
    expect(st.step).toBe(0);
    expect(bits(st.params)).toEqual(bits(tensorsToFlat(spec, tensors)));
    expect(st.m.every((x) => x === 0)).toBe(true);
    const trainer = new Trainer(ctx, {
      spec: s,
      microBatchSize: 2,
      gradAccumSteps: 1,
      adam: adamHyper(c),
      schedule: lrSchedule(c),
    });
    trainer.loadParams(st.params);
    const seq = randint(2 * s.T + 1, 256, 4);
    const batch = { tokens: seq.subarray(0, 2 * s.T), targets: seq.subarray(1) };
    const fwd = new ForwardModel(ctx, s, 2);
    fwd.load(st.params);
    await fwd.forward(batch.tokens, batch.targets);
    const expected = (await fwd.losses()).reduce((a, b) => a + b, 0) / (2 * s.T);
    const losses = [];
    for (let i = 0; i < 4; i++) losses.push((await trainer.trainStep([batch])).loss);
    expect(Math.abs(losses[0] - expected) / expected).toBeLessThan(1e-6);
    expect(losses[3]).toBeLessThan(losses[0]);
  });
});
