// RunGate over the loopback transport: four ranks in a PP2 × DP2 grid run a stand-in step
// loop (a data-parallel all-reduce and a pipeline send/recv per step) through their gates.
import { describe, expect, it } from 'vitest';
import { createLoopbackWorld } from '../comm/loopback';
import { directComm, type RankComm } from '../train/distributed/rank-comm';
import { RunGate, RunStopped, type GateState } from './run-gate';

// rank = dp + 2·pp: DP groups [0,1] [2,3], PP groups [0,2] [1,3]
const groupsOf = (r: number) => ({ dp: r < 2 ? [0, 1] : [2, 3], pp: [r % 2, (r % 2) + 2] });

interface Rank {
  gate: RunGate;
  comm: RankComm;
  states: string[];
  steps: number;
}

function world(): Rank[] {
  const loop = createLoopbackWorld(4);
  return loop.transports.map((t, r) => {
    const states: string[] = [];
    const gate = new RunGate(directComm(t), groupsOf(r), (s: GateState, step?: number) =>
      states.push(step === undefined ? s : `${s}@${step}`),
    );
    return { gate, comm: gate.wrap(), states, steps: 0 };
  });
}

/** A stand-in for trainRank: each step sums a value over DP, then stage 0 sends to stage 1. */
async function loop(
  me: Rank,
  r: number,
  steps: number,
  onStep?: (step: number) => void | Promise<void>,
): Promise<number[]> {
  const sums: number[] = [];
  const { dp, pp } = groupsOf(r);
  for (let s = 1; s <= steps; s++) {
    const [sum] = await me.comm.allReduce(Float32Array.of(s * (r + 1)), { ranks: dp, name: 'dp' }, 'sum');
    if (r === pp[0]) await me.comm.send(pp[1], `act${s}`, Uint8Array.of(s));
    else expect((await me.comm.recv(pp[0], `act${s}`, 1))[0]).toBe(s);
    sums.push(sum);
    me.steps = s;
    me.gate.boundary();
    await onStep?.(s);
  }
  return sums;
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('RunGate', () => {
  it('holds the first network operation until start', async () => {
    const ranks = world();
    const runs = ranks.map((me, r) => loop(me, r, 3));
    await tick(20);
    expect(ranks.map((x) => x.steps)).toEqual([0, 0, 0, 0]);
    expect(ranks.every((x) => x.states[0] === 'waiting-start')).toBe(true);
    ranks.forEach((x) => x.gate.start());
    const sums = await Promise.all(runs);
    expect(sums[0]).toEqual([3, 6, 9]); // ranks 0 and 1: s·1 + s·2
    expect(sums[3]).toEqual([7, 14, 21]);
  });

  it('pauses every rank after the same step when only one was asked, and resumes', async () => {
    const ranks = world();
    ranks.forEach((x) => x.gate.start());
    // rank 3 alone hears "pause" during step 2; the others hear it much later
    const runs = ranks.map((me, r) =>
      loop(me, r, 6, (s) => {
        if (r === 3 && s === 1) me.gate.pause();
      }),
    );
    await tick(50);
    const held = ranks.map((x) => x.steps);
    expect(
      held.every((s) => s === held[0]),
      `steps ${held}`,
    ).toBe(true);
    expect(held[0]).toBeLessThan(6);
    for (const x of ranks) expect(x.states.at(-1)).toMatch(/^paused@/);
    ranks.forEach((x, r) => {
      if (r !== 3) x.gate.pause();
    });
    await tick(20);
    expect(ranks.map((x) => x.steps)).toEqual(held);
    ranks.forEach((x) => x.gate.resume());
    await Promise.all(runs);
    expect(ranks.map((x) => x.steps)).toEqual([6, 6, 6, 6]);
    expect(ranks.every((x) => x.states.at(-1) === 'running')).toBe(true);
  });

  it('lets a rank that already saw pause and resume go on, while the others wait for theirs', async () => {
    const ranks = world();
    ranks.forEach((x) => x.gate.start());
    const runs = ranks.map((me, r) =>
      loop(me, r, 4, (s) => {
        if (s !== 1) return;
        if (r === 0) me.gate.pause(); // votes to pause after step 1
        if (r === 1) {
          me.gate.pause();
          me.gate.resume();
        } // both came before it agreed
      }),
    );
    await tick(30);
    expect(ranks.map((x) => x.steps)).toEqual([1, 1, 1, 1]);
    expect(ranks.map((x) => x.states.includes('paused@1'))).toEqual([true, false, true, true]);
    ranks[0].gate.resume();
    for (const x of ranks.slice(2)) {
      x.gate.pause();
      x.gate.resume();
    } // their messages arrive late
    await Promise.all(runs);
    expect(ranks.map((x) => x.steps)).toEqual([4, 4, 4, 4]);
  });

  it('TP2 × PP2: a pause heard by one tensor-parallel slice holds the other slice after the same step', async () => {
    // rank = tp + 2·pp: TP groups [0,1] [2,3], PP groups [0,2] [1,3]; each step a TP sum, then stage 0 → 1
    const loopWorld = createLoopbackWorld(4);
    const tpOf = (r: number) => (r < 2 ? [0, 1] : [2, 3]);
    const ppOf = (r: number) => [r % 2, (r % 2) + 2];
    const ranks: Rank[] = loopWorld.transports.map((t, r) => {
      const states: string[] = [];
      const gate = new RunGate(directComm(t), { dp: [r], pp: ppOf(r), tp: tpOf(r) }, (s, step) =>
        states.push(step === undefined ? s : `${s}@${step}`),
      );
      return { gate, comm: gate.wrap(), states, steps: 0 };
    });
    ranks.forEach((x) => x.gate.start());
    const runs = ranks.map(async (me, r) => {
      for (let s = 1; s <= 5; s++) {
        await me.comm.allReduce(Float32Array.of(s), { ranks: tpOf(r), name: 'tp' }, 'sum');
        const [first, second] = ppOf(r);
        if (r === first) await me.comm.send(second, `act${s}`, Uint8Array.of(s));
        else await me.comm.recv(first, `act${s}`, 1);
        me.steps = s;
        me.gate.boundary();
        if (s === 1 && (r === 0 || r === 2)) me.gate.pause(); // the slice of TP rank 0 hears it first
      }
    });
    await tick(50);
    const held = ranks.map((x) => x.steps);
    expect(held, `steps ${held}`).toEqual([1, 1, 1, 1]);
    for (const x of ranks) expect(x.states.at(-1)).toBe('paused@1');
    ranks.forEach((x) => {
      x.gate.pause();
      x.gate.resume();
    });
    await Promise.all(runs);
    expect(ranks.map((x) => x.steps)).toEqual([5, 5, 5, 5]);
  });

  it('fails the next network operation of a stopped rank, also while paused', async () => {
    const ranks = world();
    ranks.forEach((x) => x.gate.start());
    ranks[0].gate.pause();
    const runs = ranks.map((me, r) => loop(me, r, 5).catch((e: Error) => e));
    await tick(30);
    ranks.forEach((x) => x.gate.stop('stopped by admin'));
    for (const got of await Promise.all(runs)) {
      expect(got).toBeInstanceOf(RunStopped);
      expect((got as Error).message).toBe('stopped by admin');
    }
    expect(ranks.map((x) => x.steps)).toEqual([1, 1, 1, 1]);
  });
});
