import { describe, expect, it } from 'vitest';
import type { HaltReport } from '../protocol';
import { type Member, planRecovery, type RecoveryInput, replicaCounts } from './recovery-plan';

const TP2PP2 = { tp: 2, pp: 2, dp: 1, accum: 2 };
const PP2DP2 = { tp: 1, pp: 2, dp: 2, accum: 2 };
const none = { save: [] as number[], load: [] as number[] };
const at = (reachable: number[], snapshots: number[] = []): HaltReport => ({
  step: reachable[0] ?? null,
  reachable,
  snapshots,
});
const standby = (id: string): Member => ({ id, rank: null, report: null });
const holder = (id: string, rank: number, report: HaltReport | null): Member => ({ id, rank, report });

function go(input: RecoveryInput) {
  const plan = planRecovery(input);
  if (plan.kind !== 'go') throw new Error(`expected a plan, got: ${plan.reason}`);
  const byRank = new Map(plan.assignments.map((a) => [a.rank, a]));
  return { ...plan, byRank };
}

describe('planRecovery', () => {
  it('starts a run: standbys in join order take ranks 0..N-1 with fresh weights at step 0', () => {
    const p = go({
      configured: TP2PP2,
      current: null,
      zero: false,
      members: ['a', 'b', 'c', 'd', 'e'].map(standby),
      checkpoints: none,
    });
    expect(p.step).toBe(0);
    expect(p.layout).toEqual(TP2PP2);
    expect(p.assignments.map((a) => [a.member, a.rank, a.restore.kind])).toEqual([
      ['a', 0, 'init'],
      ['b', 1, 'init'],
      ['c', 2, 'init'],
      ['d', 3, 'init'],
    ]);
    expect(p.idle).toEqual(['e']);
    expect(p.restoredFrom).toBe('init');
  });

  it("starts from the newest checkpoint of the config's load directory", () => {
    const p = go({
      configured: TP2PP2,
      current: null,
      zero: false,
      members: ['a', 'b', 'c', 'd'].map(standby),
      checkpoints: { save: [], load: [5, 10] },
    });
    expect(p.step).toBe(10);
    expect(p.byRank.get(2)!.restore).toEqual({ kind: 'checkpoint', iteration: 10, source: 'load' });
  });

  it('PP2×DP2, a rank lost, a standby: the replica of its stage sends its state; nobody rolls back', () => {
    // ranks: (pp0,dp0)=0 (pp0,dp1)=1 (pp1,dp0)=2 (pp1,dp1)=3; rank 3 is gone
    const p = go({
      configured: PP2DP2,
      current: PP2DP2,
      zero: false,
      members: [holder('a', 0, at([7, 6])), holder('b', 1, at([7, 6])), holder('c', 2, at([6])), standby('s')],
      checkpoints: { save: [4], load: [] },
    });
    expect(p.step).toBe(6);
    expect(p.layout).toEqual(PP2DP2);
    expect(p.byRank.get(3)).toEqual({ member: 's', rank: 3, restore: { kind: 'dp-peer', from: 2 }, donate: [] });
    expect(p.byRank.get(2)!.donate).toEqual([3]);
    for (const r of [0, 1, 2]) expect(p.byRank.get(r)!.restore.kind).toBe('keep');
    expect(p.restoredFrom).toBe('dp-peer');
  });

  it('PP2×DP2 with no standby shrinks to one replica with twice the accumulation, then grows back', () => {
    const shrunk = go({
      configured: PP2DP2,
      current: PP2DP2,
      zero: false,
      members: [holder('a', 0, at([7])), holder('b', 1, at([7])), holder('c', 2, at([7]))],
      checkpoints: none,
    });
    expect(shrunk.layout).toEqual({ tp: 1, pp: 2, dp: 1, accum: 4 });
    expect(shrunk.step).toBe(7);
    // the complete replica dp 0 (ranks 0 and 2) stays; its stage-1 rank is rank 1 now
    expect(shrunk.assignments.map((a) => [a.member, a.rank, a.restore.kind])).toEqual([
      ['a', 0, 'keep'],
      ['c', 1, 'keep'],
    ]);
    expect(shrunk.idle).toEqual(['b']);
    expect(shrunk.restoredFrom).toBe('none');

    const grown = go({
      configured: PP2DP2,
      current: shrunk.layout,
      zero: false,
      members: [holder('a', 0, at([9, 8])), holder('c', 1, at([9, 8])), standby('b'), standby('n')],
      checkpoints: none,
    });
    expect(grown.layout).toEqual(PP2DP2);
    expect(grown.step).toBe(9);
    expect(grown.byRank.get(0)!.member).toBe('a');
    expect(grown.byRank.get(2)!.member).toBe('c');
    expect(grown.byRank.get(1)!.restore).toEqual({ kind: 'dp-peer', from: 0 });
    expect(grown.byRank.get(3)!.restore).toEqual({ kind: 'dp-peer', from: 2 });
  });

  it('TP2×PP2 (no replicas): a newcomer restores from the newest checkpoint and every rank rolls back to it', () => {
    const p = go({
      configured: TP2PP2,
      current: TP2PP2,
      zero: false,
      members: [holder('a', 0, at([7, 6], [6])), holder('b', 1, at([7, 6])), holder('c', 2, at([7, 6])), standby('s')],
      checkpoints: { save: [2, 4], load: [] },
    });
    expect(p.step).toBe(4);
    expect(p.byRank.get(3)!.restore).toEqual({ kind: 'checkpoint', iteration: 4, source: 'save' });
    expect(p.restoredFrom).toBe('checkpoint');
  });

  it('a reloaded tab comes back to its rank from its own snapshot; the others keep or undo one step', () => {
    const p = go({
      configured: TP2PP2,
      current: TP2PP2,
      zero: false,
      members: [
        holder('a', 0, at([7, 6])),
        holder('b', 1, { step: null, reachable: [], snapshots: [5, 6] }),
        holder('c', 2, at([7, 6])),
        holder('d', 3, at([6])),
      ],
      checkpoints: { save: [4], load: [] },
    });
    expect(p.step).toBe(6);
    expect(p.byRank.get(1)!.restore).toEqual({ kind: 'local' });
    expect(p.byRank.get(0)!.restore).toEqual({ kind: 'keep' });
    expect(p.restoredFrom).toBe('local');
  });

  it('with ZeRO the moments are per replica: a lost rank comes from a checkpoint, not a peer', () => {
    const layout = { tp: 1, pp: 1, dp: 2, accum: 1 };
    const p = go({
      configured: layout,
      current: layout,
      zero: true,
      members: [holder('a', 0, at([5, 4])), standby('s')],
      checkpoints: { save: [3], load: [] },
    });
    expect(p.step).toBe(3);
    expect(p.byRank.get(1)!.restore.kind).toBe('checkpoint');
  });

  it('with ZeRO-3 the parameters are per replica too: keep or own snapshot only for the same shard', () => {
    const layout = { tp: 1, pp: 1, dp: 2, accum: 1 };
    // rank 1's tab reloaded (its snapshot of step 4 remains); rank 0 holds step 5
    const p = go({
      configured: layout,
      current: layout,
      zero: true,
      members: [holder('a', 0, at([5, 4], [4])), holder('b', 1, at([], [4]))],
      checkpoints: { save: [2], load: [] },
    });
    expect(p.step).toBe(4);
    expect(p.byRank.get(0)!.restore).toEqual({ kind: 'keep' });
    expect(p.byRank.get(1)!.restore).toEqual({ kind: 'local' });
    // without ZeRO the replica at step 5 would send rank 1 its state: no rollback at all
    const whole = go({
      configured: layout,
      current: layout,
      zero: false,
      members: [holder('a', 0, at([5, 4], [4])), holder('b', 1, at([], [4]))],
      checkpoints: { save: [2], load: [] },
    });
    expect(whole.step).toBe(5);
    expect(whole.byRank.get(1)!.restore).toEqual({ kind: 'dp-peer', from: 0 });
  });

  it('waits, saying why, when the tabs cannot fill one replica', () => {
    const p = planRecovery({
      configured: TP2PP2,
      current: TP2PP2,
      zero: false,
      members: [holder('a', 0, at([7])), holder('b', 1, at([7]))],
      checkpoints: none,
    });
    expect(p).toEqual({ kind: 'wait', reason: expect.stringMatching(/2 tab\(s\) for a replica of 4 ranks/) });
  });

  it('shrinks only to replica counts that split the step evenly, and not at all when told not to', () => {
    expect(replicaCounts({ tp: 1, pp: 1, dp: 4, accum: 1 }, true)).toEqual([4, 2, 1]);
    expect(replicaCounts({ tp: 1, pp: 1, dp: 3, accum: 2 }, true)).toEqual([3, 2, 1]);
    expect(replicaCounts({ tp: 1, pp: 1, dp: 3, accum: 1 }, true)).toEqual([3, 1]);
    expect(replicaCounts({ tp: 1, pp: 1, dp: 4, accum: 1 }, false)).toEqual([4]);
  });
});
