// The ticker spaces the callbacks it is given, runs them in order, and neither holds a finished
// process open nor lets one end while a callback waits.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parsePollSpacing } from './dawn-polling';
import { PollTicker } from './poll-ticker';

/** stdout of a fresh Node process running `body` with PollTicker imported */
function runWithTicker(body: string): string {
  return execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `import { PollTicker } from '${import.meta.dirname}/poll-ticker.ts';\n${body}`,
    ],
    { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

describe('PollTicker', () => {
  it('runs a callback that queues itself again at most once per tick, in order', async () => {
    const ticker = new PollTicker(2000);
    const seen: number[] = [];
    const t0 = performance.now();
    await new Promise<void>((done) => {
      const poll = (n: number) => {
        seen.push(n);
        if (n === 20) done();
        else ticker.later(poll as (...args: unknown[]) => void, [n + 1]);
      };
      ticker.later(poll as (...args: unknown[]) => void, [1]);
    });
    const ms = performance.now() - t0;
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(ms).toBeGreaterThanOrEqual(20 * 2 * 0.95); // 20 ticks of 2 ms
  });

  it('callbacks queued before one tick all run at it', async () => {
    const ticker = new PollTicker(5000);
    const order: string[] = [];
    await new Promise<void>((done) => {
      ticker.later(() => order.push('a'), []);
      ticker.later(() => order.push('b'), []);
      ticker.later(() => {
        order.push('c');
        done();
      }, []);
    });
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('a callback that throws does not keep the others of its tick from running; the error still surfaces', () => {
    const out = runWithTicker(
      `process.on('uncaughtException', (e) => console.log('caught ' + e.message));
       const t = new PollTicker(1000);
       t.later(() => { throw new Error('boom'); }, []);
       t.later(() => console.log('second ran'), []);`,
    );
    expect(out).toBe('second ran\ncaught boom\n');
  });

  it('a process ends when nothing waits, and not before a waiting callback ran', () => {
    expect(runWithTicker(`new PollTicker(50); console.log('idle');`)).toBe('idle\n');
    expect(runWithTicker(`new PollTicker(50_000).later(() => console.log('ran'), []);`)).toBe('ran\n');
  });
});

describe('TABTRON_DAWN_POLLING', () => {
  it('names each spacing, and rejects anything else naming the variable', () => {
    expect(parsePollSpacing('immediate')).toBeNull();
    expect(parsePollSpacing('timer')).toEqual({ timerMs: 1 });
    expect(parsePollSpacing('tick:50')).toEqual({ tickUs: 50 });
    expect(parsePollSpacing('sleep:12.5')).toEqual({ sleepUs: 12.5 });
    expect(() => parsePollSpacing('tick')).toThrow(/TABTRON_DAWN_POLLING .*'tick'/);
  });
});
