// The README's run command, end to end: `tabtron train configs/tiny.yml` trains the tiny GPT on
// the shipped corpus in a headless Chromium tab (WebGPU in the rank worker) and the validation
// loss ends well below the initial loss, which is ≈ ln(vocab) for a fresh model. The log
// reports every log_interval (10) steps the train loss averaged over the interval, as NeoX does.
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

    const losses = steps.map((e: { loss: number }) => e.loss);
    expect(out.log.map((e: { iteration: number }) => e.iteration)).toEqual([10, 20, 30, 40, 50, 60]);
    for (const e of out.log) {
      const interval = losses.slice(e.iteration - 10, e.iteration);
      expect(e.iterations).toBe(10);
      expect(e.train_loss).toBeCloseTo(interval.reduce((a: number, b: number) => a + b, 0) / 10, 6);
    }
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('iteration '));
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^iteration 10\/60 \| train loss \d+\.\d{4} \(mean of 10\) \| lr /);
  });
});
