// `validateCommand` through a real child process: node --import tsx cli/validate-main.ts.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { referenceConfigsDir } from './reference-configs-dir';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const REF_125M = join(referenceConfigsDir(), '125M.yml');

function validate(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/validate-main.ts', ...args], {
    cwd: REPO,
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('validate CLI', () => {
  it('exits non-zero and prints every problem of an invalid config to stderr', () => {
    const r = validate('src/config/fixtures/bad.yml');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('invalid config (4 problems)');
    expect(r.stderr).toContain('unknown key "hiden-size" in src/config/fixtures/bad.yml (did you mean "hidden_size"?)');
    expect(r.stderr).toContain('src/config/fixtures/bad.yml: num_layers must be an integer, got "twelve"');
    expect(r.stdout).toBe('');
  });

  it('prints the resolved config and exits 0 for a valid one', () => {
    const r = validate('configs/tiny.yml');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^hidden_size: 64$/m);
    expect(r.stdout).toMatch(/^tokenizer_type: CharLevelTokenizer$/m);
    expect(r.stdout).toContain('no warnings');
  });

  it('prints JSON with --json, warnings included', () => {
    const r = validate('--json', REF_125M);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; config: Record<string, unknown>; warnings: string[] };
    expect(out.ok).toBe(true);
    expect(out.config.hidden_size).toBe(768);
    expect(out.warnings.some((w) => w.includes('hostfile is a NeoX key that tabtron does not implement yet'))).toBe(
      true,
    );
  });

  it('says what precision really runs', () => {
    const f32 = validate('configs/tiny.yml');
    expect(f32.stdout).toContain('runs: precision fp32: every tensor and all arithmetic in f32');
    const r = validate('--json', REF_125M);
    const out = JSON.parse(r.stdout) as { runs: { precision: string }; warnings: string[] };
    expect(out.runs.precision).toMatch(
      /^fp16 mixed precision: dynamic loss scale from 2\^16 \(window 1000, hysteresis 2, min 1\); steps whose/,
    );
    expect(out.runs.precision).toContain('fp16 between ranks: pipeline activations and their gradients');
    // with activation recompute (as this config asks) the 16-bit activations are the saved chunk inputs
    expect(out.runs.precision).toContain(
      "fp16 in GPU memory: the parameters' working copy (cast from the f32 master weights after each update) and " +
        'the activations each layer keeps for its backward; f32 in GPU memory: master weights, gradients, Adam state;',
    );
    // validate knows no GPU: f16 arithmetic where the GPU has shader-f16
    expect(out.runs.precision).toMatch(
      /; on GPUs with shader-f16 f16 arithmetic in the linear layers' matrix products /,
    );
    expect(out.warnings.filter((w) => w.includes('fp16'))).toEqual([]); // every key of its fp16 block is read
    const bf16 = validate('--json', 'configs/tiny.yml', 'src/config/fixtures/bf16-zero3.yml');
    const zero3 = JSON.parse(bf16.stdout) as { runs: { precision: string }; warnings: string[] };
    expect(zero3.runs.precision).toContain(
      'bf16 in GPU memory: the activations each layer keeps for its backward; f32 in GPU memory: weights, ' +
        "gradients, Adam state (zero_optimization.stage: ZeRO-3 keeps the parameters' working copy in f32",
    );
    expect(zero3.warnings).toEqual([
      expect.stringMatching(/bf16-zero3\.yml: zero_optimization\.stage: 3 with bfloat16: .*half_storage\.weights/),
    ]);
  });

  it('reports an invalid config as JSON too when asked', () => {
    const r = validate('--json', 'src/config/fixtures/dup-spelling.yml');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { ok: boolean; issues: Array<{ message: string }> };
    expect(out.ok).toBe(false);
    expect(out.issues[0].message).toContain('"hidden-size" and "hidden_size" are the same key');
  });
});
