// Export cases for tools/hf/check_transformers.py: tiny random models saved as tabtron
// checkpoints in several parallel layouts, exported with `tabtron export-hf`, and a text to
// score. Each case covers a branch of the export: GPTNeoX with partial rotary, parallel
// residual and an untied head from TP2 × PP2; GPTNeoX with full rotary, sequential residual,
// tied embeddings and GPT-2's BPE tokenizer from DP2 ZeRO-1; GPT-2 (learned positions, untied)
// from PP2; GPTNeoX without positions (rotary_pct 0) from one rank.
//   node --import tsx --import ./tools/register-raw.mjs tools/hf/make-cases.ts OUT_DIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fsCheckpointStore } from '../../src/checkpoint/fs-store';
import { saveRankState } from '../../src/checkpoint/save-load';
import { layoutOf, randomModel, rankStates, tinySpec } from '../../src/checkpoint/test-fixtures';
import type { CheckpointLayout } from '../../src/checkpoint/layout';
import type { ModelSpec } from '../../src/model/spec';
import { exportHfCommand } from '../../cli/export-hf';

const TEXT =
  'Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse, ' +
  'and nothing particular to interest me on shore, I thought I would sail about a little and see the watery ' +
  'part of the world. It is a way I have of driving off the spleen, and regulating the circulation.';

interface Case {
  name: string;
  spec: ModelSpec;
  layout: CheckpointLayout;
  tokenizer: 'CharLevelTokenizer' | 'GPT2BPETokenizer';
}

const char = { V: 256, C: 32, H: 4, hd: 8, F: 64, L: 3 };
export const CASES: Case[] = [
  {
    name: 'neox-partial-rotary-parallel-untied-tp2pp2',
    spec: tinySpec({
      ...char,
      T: 16,
      maxPos: 16,
      posEmb: 'rotary',
      rotaryDims: 4,
      parallelResidual: true,
      tied: false,
    }),
    layout: layoutOf(2, 2, 1),
    tokenizer: 'CharLevelTokenizer',
  },
  {
    name: 'neox-rotary-sequential-tied-gpt2bpe-zero1',
    spec: tinySpec({
      V: 50304,
      C: 32,
      H: 2,
      hd: 16,
      F: 128,
      L: 2,
      T: 32,
      maxPos: 64,
      posEmb: 'rotary',
      rotaryDims: 16,
    }),
    layout: layoutOf(1, 1, 2, 1),
    tokenizer: 'GPT2BPETokenizer',
  },
  {
    name: 'gpt2-learned-untied-pp2',
    spec: tinySpec({ ...char, T: 16, maxPos: 32, posEmb: 'learned', tied: false }),
    layout: layoutOf(1, 2, 1),
    tokenizer: 'CharLevelTokenizer',
  },
  {
    name: 'neox-no-positions-tied',
    spec: tinySpec({ ...char, T: 16, maxPos: 16, posEmb: 'none', normEps: 1e-6 }),
    layout: layoutOf(1, 1, 1),
    tokenizer: 'CharLevelTokenizer',
  },
];

const out = process.argv[2];
if (!out) throw new Error('usage: make-cases.ts OUT_DIR');
for (const c of CASES) {
  const dir = join(out, c.name);
  mkdirSync(dir, { recursive: true });
  const model = randomModel(c.spec, 11);
  for (const t of model.values()) for (let i = 0; i < t.param.length; i++) t.param[i] *= 0.3;
  const store = fsCheckpointStore(join(dir, 'checkpoint'));
  for (const s of rankStates(c.spec, model, c.layout, 5)) await saveRankState(store, 5, c.spec, c.layout, s);
  process.stdout.write(
    await exportHfCommand(join(dir, 'checkpoint'), { out: join(dir, 'hf'), tokenizerType: c.tokenizer }),
  );
  writeFileSync(join(dir, 'text.txt'), TEXT);
}
