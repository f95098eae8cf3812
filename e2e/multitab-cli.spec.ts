// The README's run command on 4 tabs, shortened: `tabtron train configs/tiny-3d.yml --tabs 4`
// in a child process (in-process coordinator, 4 headless tabs, WebRTC) exits 0 by itself with
// the final losses as JSON, and the loss has fallen from its initial ≈ ln(256).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('tabtron train configs/tiny-3d.yml --tabs 4', () => {
  it('trains TP2 × PP2 on 4 tabs and exits 0 with the final losses', () => {
    const r = spawnSync(
      process.execPath,
      ['bin/tabtron.mjs', 'train', 'configs/tiny-3d.yml', '--tabs', '4', '--max-steps', '6', '--json'],
      { encoding: 'utf8', timeout: 150_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out).toMatchObject({ tabs: 4, world: 4, layout: 'PP 2 × TP 2 × DP 1', steps: 6 });
    expect(out.final_train_loss).toBeLessThan(Math.log(256) - 0.2);
    expect(out.final_valid_loss).toBeLessThan(Math.log(256) - 0.1);
    expect(out.tokens_per_sec).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/4 tabs for 4 ranks \(PP 2 × TP 2 × DP 1\); 6 steps/);
    expect(r.stderr).toMatch(/stopped: finished: every rank reached train_iters 6/);
  });
});
