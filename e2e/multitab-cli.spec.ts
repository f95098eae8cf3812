// The README's run command on 4 tabs, shortened: `tabtron train configs/tiny-3d.yml --tabs 4`
// in a child process (in-process coordinator, 4 headless tabs, WebRTC) exits 0 by itself with
// the final losses as JSON, and the loss has fallen from its initial ≈ ln(256). The log has a
// line every log_interval (5) steps and one after the last, with the interval's mean loss.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WEB_DIST_ENV } from '../src/node/web-build';

const tempRoot = mkdtempSync(join(tmpdir(), 'tabtron-cli-spec-'));
afterAll(() => rmSync(tempRoot, { recursive: true, force: true }));

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
    expect(out.log.map((e: { iteration: number; iterations: number }) => [e.iteration, e.iterations])).toEqual([
      [5, 5],
      [6, 1],
    ]);
    expect(out.log[1].train_loss).toBe(out.final_train_loss); // one step: its own loss
    expect(out.log[0].train_loss).toBeLessThan(Math.log(256) + 0.3);
    expect(r.stderr).toMatch(/^iteration 5\/6 \| train loss \d+\.\d{4} \(mean of 5\)/m);
    expect(r.stderr).toMatch(/^iteration 6\/6 \| train loss \d+\.\d{4} \(mean of 1\)/m);
  });

  it('Ctrl-C while the tabs run: exits 130 and leaves no temporary coordinator or web build directory', async () => {
    // without the e2e project's shared build: this run builds the web app into a temporary directory of its own
    const { [WEB_DIST_ENV]: _shared, ...env } = process.env;
    const child = spawn(process.execPath, ['bin/tabtron.mjs', 'train', 'configs/tiny-3d.yml', '--tabs', '4'], {
      env: { ...env, TMPDIR: tempRoot },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // the first state line comes once the tabs are open and the coordinator is polled
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/^run \S+: /m.test(stderr)) resolve();
      });
      child.on('exit', () => reject(new Error(`exited before the run started: ${stderr}`)));
    });
    const ours = () => readdirSync(tempRoot).filter((f) => /^tabtron-(headless|web)-/.test(f));
    expect(
      ours()
        .map((f) => f.replace(/-[^-]+$/, ''))
        .sort(),
    ).toEqual(['tabtron-headless', 'tabtron-web']);
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    expect(ours()).toEqual([]);
  });
});
