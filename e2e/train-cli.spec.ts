// The README's run command, end to end: `tabtron train configs/tiny.yml` trains the tiny GPT on
// the shipped corpus in a headless Chromium tab (WebGPU in the rank worker) and the validation
// loss ends well below the initial loss, which is ≈ ln(vocab) for a fresh model.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('tabtron train (headless tab, shipped corpus)', () => {
  it('validation loss falls well below ln(vocab)', () => {
    const r = spawnSync(process.execPath, ['bin/tabtron.mjs', 'train', 'configs/tiny.yml', '--json'], {
      encoding: 'utf8',
      timeout: 280_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const vocab = out.history.find((e: { kind: string }) => e.kind === 'start').vocab;
    const steps = out.history.filter((e: { kind: string }) => e.kind === 'step');
    expect(steps.length).toBeGreaterThanOrEqual(40);
    expect(out.initial_valid_loss).toBeGreaterThan(Math.log(vocab) - 0.3);
    expect(out.initial_valid_loss).toBeLessThan(Math.log(vocab) + 0.3);
    expect(out.final_valid_loss).toBeLessThan(out.initial_valid_loss - 1.5);
    expect(steps.at(-1).loss).toBeLessThan(steps[0].loss - 1.5);
    expect(r.stderr).toMatch(/adapter: /);
  });
});
