// `tabtron export-hf | import-hf | eval | generate` in child processes, on checkpoint
// directories written by the filesystem store from synthetic models (TP2 × PP2 and others).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fsCheckpointStore } from '../src/checkpoint/fs-store';
import { decodeRankFile } from '../src/checkpoint/rank-file';
import { readSafetensors } from '../src/checkpoint/safetensors';
import { saveRankState } from '../src/checkpoint/save-load';
import { bits, layoutOf, randomModel, rankStates, tinySpec } from '../src/checkpoint/test-fixtures';
import { tensorsToFlat } from '../src/hf/flat';
import type { ModelSpec } from '../src/model/spec';
import { removeTempDirs, tempDir } from '../src/node/temp-dirs';

const root = join(import.meta.dirname, '..');
const tabtron = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/tabtron.mjs', ...args], { cwd: root, encoding: 'utf8' });
const tmp = (what: string) => tempDir(`tabtron-hf-${what}-`);
afterAll(removeTempDirs);

const spec = tinySpec({
  V: 256,
  C: 16,
  H: 2,
  hd: 8,
  F: 32,
  L: 2,
  T: 16,
  maxPos: 16,
  posEmb: 'rotary',
  rotaryDims: 4,
  tied: false,
});
const model = randomModel(spec, 2);
for (const f of model.values()) for (let i = 0; i < f.param.length; i++) f.param[i] *= 0.3;

async function checkpoint(s: ModelSpec = spec, iterations = [4]): Promise<string> {
  const dir = tmp('ckpt');
  const layout = layoutOf(2, 2, 1);
  const m = s === spec ? model : randomModel(s, 2);
  for (const it of iterations)
    for (const st of rankStates(s, m, layout, it)) await saveRankState(fsCheckpointStore(dir), it, s, layout, st);
  return dir;
}

const text = 'Call me Ishmael. Some years ago, never mind how long precisely, having little money in my purse.';

// each test starts several CLI processes, each opening its own SwiftShader device: slow when the suite loads the cores
describe('tabtron export-hf and import-hf', { timeout: 180_000 }, () => {
  it('exports a TP2 × PP2 checkpoint; import-hf gives back the same weights and a NeoX config that validates', async () => {
    const ck = await checkpoint(spec, [4, 8]);
    const hf = join(tmp('out'), 'model');
    const ex = tabtron('export-hf', ck, '--out', hf, '--iteration', '4');
    expect(ex.status, ex.stderr).toBe(0);
    expect(ex.stdout).toContain('exported');
    expect(ex.stdout).toContain('iteration 4 (step 4, TP 2 × PP 2 × DP 1');
    expect(ex.stderr).toContain('CharLevelTokenizer (from its vocabulary of 256');
    const cfg = JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ architectures: ['GPTNeoXForCausalLM'], rotary_pct: 0.5, tie_word_embeddings: false });
    const st = readSafetensors(new Uint8Array(readFileSync(join(hf, 'model.safetensors'))));
    expect(st.metadata).toEqual({ format: 'pt' });
    expect(st.tensors['embed_out.weight'].shape).toEqual([256, 16]);

    const out = join(tmp('import'), 'ck');
    const im = tabtron('import-hf', hf, '--out', out);
    expect(im.status, im.stderr).toBe(0);
    expect(im.stdout).toContain(`fine-tune it with: npx tabtron train ${join(out, 'neox.yml')}`);
    const file = decodeRankFile(
      new Uint8Array(readFileSync(join(out, 'iter_0000000', 'rank_00000.safetensors'))),
      'rank_00000.safetensors',
    );
    const original = new Map([...model].map(([k, f]) => [k, { data: f.param }]));
    expect(bits(file.params!)).toEqual(bits(tensorsToFlat(spec, original)));
    expect(readFileSync(join(out, 'latest'), 'utf8').trim()).toBe('iter_0000000');
    const v = tabtron('validate', join(out, 'neox.yml'));
    expect(v.status, v.stderr).toBe(0);
    expect(readFileSync(join(out, 'neox.yml'), 'utf8')).toContain(`load: ${out}`);
  });

  it('refuses clearly: missing checkpoint, wrong iteration, a config HF cannot express, an occupied --out', async () => {
    const ck = await checkpoint();
    const miss = tabtron('export-hf', join(ck, 'nope'), '--out', join(tmp('x'), 'm'));
    expect(miss.status).toBe(1);
    expect(miss.stderr).toContain('nope does not exist');
    const wrong = tabtron('export-hf', ck, '--out', join(tmp('x'), 'm'), '--iteration', '3');
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('iteration 3 has no complete checkpoint (complete: 4)');
    const rms = await checkpoint(tinySpec({ V: 256, norm: 'rmsnorm', posEmb: 'rotary', rotaryDims: 4 }));
    const out = join(tmp('x'), 'm');
    const r = tabtron('export-hf', rms, '--out', out);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('tabtron: norm: "rmsnorm" has no Hugging Face equivalent');
    expect(existsSync(out)).toBe(false);
    const hf = join(tmp('x'), 'm');
    expect(tabtron('export-hf', ck, '--out', hf).status).toBe(0);
    const before = statSync(join(hf, 'model.safetensors')).mtimeMs;
    const again = tabtron('export-hf', ck, '--out', hf);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already has config.json, model.safetensors');
    expect(statSync(join(hf, 'model.safetensors')).mtimeMs).toBe(before);
  });

  it('import-hf names the file or key at fault and writes nothing', async () => {
    const ck = await checkpoint();
    const hf = join(tmp('x'), 'm');
    expect(tabtron('export-hf', ck, '--out', hf).status).toBe(0);
    const empty = tmp('empty');
    const noCfg = tabtron('import-hf', empty, '--out', join(tmp('o'), 'c'));
    expect(noCfg.stderr).toContain(`${empty}: no config.json (not a Hugging Face model folder)`);
    const cfg = JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8'));
    writeFileSync(join(hf, 'config.json'), JSON.stringify({ ...cfg, hidden_act: 'gelu_new' }));
    const out = join(tmp('o'), 'c');
    const act = tabtron('import-hf', hf, '--out', out);
    expect(act.status).toBe(1);
    expect(act.stderr).toContain(`${join(hf, 'config.json')}: hidden_act: "gelu_new" is not tabtron's activation`);
    expect(existsSync(out)).toBe(false);
    writeFileSync(join(hf, 'config.json'), JSON.stringify(cfg));
    const extra = join(tmp('y'), 'extra.yml');
    writeFileSync(extra, 'num-layers: 6\ntrain-iters: 5\n');
    const clash = tabtron('import-hf', hf, '--out', out, '--config', extra);
    expect(clash.stderr).toContain(`${extra}: num-layers: 6 differs from the imported model's 2`);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'neox.yml'), 'keep: me\n');
    const occupied = tabtron('import-hf', hf, '--out', out);
    expect(occupied.stderr).toContain('already holds neox.yml');
    expect(readFileSync(join(out, 'neox.yml'), 'utf8')).toBe('keep: me\n');
  });
});

describe('tabtron eval and generate', { timeout: 180_000 }, () => {
  it('eval --json gives the same loss for a checkpoint and its export; --dump-logits writes the windows', async () => {
    const ck = await checkpoint();
    const hf = join(tmp('x'), 'm');
    expect(tabtron('export-hf', ck, '--out', hf).status).toBe(0);
    const txt = join(tmp('t'), 'a.txt');
    writeFileSync(txt, text);
    const dump = join(tmp('d'), 'dump.safetensors');
    const a = tabtron('eval', ck, '--text', txt, '--json', '--dump-logits', dump, '--dump-windows', '2');
    expect(a.status, a.stderr).toBe(0);
    const r = JSON.parse(a.stdout);
    expect(Object.keys(r)).toEqual(['tokens', 'loss', 'perplexity']);
    expect(r.tokens).toBe(text.length - 1);
    expect(r.perplexity).toBeCloseTo(Math.exp(r.loss), 8);
    const b = tabtron('eval', hf, '--text', txt, '--json');
    expect(JSON.parse(b.stdout).loss).toBe(r.loss);
    const d = readSafetensors(new Uint8Array(readFileSync(dump)));
    expect(d.tensors.logits.shape).toEqual([2, 16, 256]);
    expect([...d.tensors.text_ids.data].slice(0, 4)).toEqual([67, 97, 108, 108]); // "Call"
    const one = join(tmp('t'), 'one.txt');
    writeFileSync(one, 'x');
    expect(tabtron('eval', ck, '--text', one).stderr).toContain('1 token(s); at least 2 are needed');
    expect(tabtron('eval', ck, '--text', join(tmp('t'), 'none.txt')).stderr).toContain(
      'none.txt: cannot read it (ENOENT)',
    );
  });

  it('generate: greedy does not depend on the seed; bad sampling options are refused', async () => {
    const ck = await checkpoint();
    const g = (seed: string) =>
      tabtron(
        'generate',
        ck,
        '--prompt',
        'Call me',
        '--max-new-tokens',
        '5',
        '--temperature',
        '0',
        '--seed',
        seed,
        '--json',
      );
    const a = g('1'),
      b = g('2');
    expect(a.status, a.stderr).toBe(0);
    const ra = JSON.parse(a.stdout);
    expect(ra.tokens).toHaveLength(5);
    expect(ra.prompt).toBe('Call me');
    expect(JSON.parse(b.stdout).tokens).toEqual(ra.tokens);
    const plain = tabtron('generate', ck, '--prompt', 'Call me', '--max-new-tokens', '3', '--top-k', '5');
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout.startsWith('Call me')).toBe(true);
    const bad = tabtron('generate', ck, '--prompt', 'x', '--top-k', '-2');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('--top-k must be an integer >= 0, got "-2"');
  });
});
