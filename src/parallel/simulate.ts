// Runs every stage's op list together over FIFO channels, one per (sender, receiver) pair, and
// reports how it ends. capacity 0 = rendezvous (a send blocks until the receiver takes it);
// capacity n > 0 = a send blocks while n messages wait unread. A run that stops early is a
// deadlock; an op whose input is missing, or a message that is not the one expected, is a bug
// in the lists. Used by the tests and by executors that want to check a list before running it.

import { chunkAt, globalChunk, isCompute, opLabel, type ChunkLayout, type CommOp, type ScheduleOp } from './ops';

export type SimResult = { ok: true; steps: number } | { ok: false; reason: 'deadlock' | 'bad-op'; detail: string };

type Msg = { what: CommOp['what']; microbatch: number; global: number };

export function simulateSchedules(l: ChunkLayout, lists: ScheduleOp[][], capacity = 0): SimResult {
  const P = lists.length;
  const lastGlobal = l.pp * l.virtualChunks - 1;
  const queues = new Map<string, Msg[]>();
  const queue = (from: number, to: number) =>
    queues.get(`${from}>${to}`) ?? queues.set(`${from}>${to}`, []).get(`${from}>${to}`)!;
  // What each stage holds, keyed "kind:microbatch:global".
  const done = lists.map(() => new Set<string>());
  const received = lists.map(() => new Set<string>());
  const pc = lists.map(() => 0);
  let steps = 0;

  const gOf = (s: number, chunk?: number) => globalChunk(l, s, chunk ?? 0);
  const matches = (m: Msg, op: CommOp, s: number) =>
    m.what === op.what && m.microbatch === op.microbatch && m.global === gOf(s, op.chunk);
  // The tensor a compute needs: produced on this stage (previous/next chunk here) or received.
  const missingInput = (s: number, kind: 'forward' | 'backward', mb: number, g: number): string | null => {
    if (kind === 'backward' && !done[s].has(`forward:${mb}:${g}`)) return `forward:${mb}:${g}`;
    const from = kind === 'forward' ? g - 1 : g + 1;
    if (from < 0 || from > lastGlobal) return null;
    const need =
      chunkAt(l, from).stage === s
        ? `${kind}:${mb}:${from}`
        : `${kind === 'forward' ? 'activation' : 'grad'}:${mb}:${g}`;
    const have = chunkAt(l, from).stage === s ? done[s].has(need) : received[s].has(need);
    return have ? null : need;
  };
  const bad = (s: number, why: string): SimResult => ({
    ok: false,
    reason: 'bad-op',
    detail: `stage ${s} at op ${pc[s]} (${opLabel(lists[s][pc[s]])}): ${why}`,
  });

  for (;;) {
    let progressed = false;
    for (let s = 0; s < P; s++) {
      while (pc[s] < lists[s].length) {
        const op = lists[s][pc[s]];
        if (isCompute(op)) {
          const g = gOf(s, op.chunk);
          const missing = missingInput(s, op.kind, op.microbatch, g);
          if (missing) return bad(s, `input ${missing} is missing`);
          if (done[s].has(`${op.kind}:${op.microbatch}:${g}`)) return bad(s, 'computed twice');
          done[s].add(`${op.kind}:${op.microbatch}:${g}`);
        } else if (op.kind === 'send') {
          const g = gOf(s, op.chunk);
          if (!done[s].has(`${op.what === 'activation' ? 'forward' : 'backward'}:${op.microbatch}:${g}`))
            return bad(s, 'sends a tensor not yet computed');
          const msg: Msg = {
            what: op.what,
            microbatch: op.microbatch,
            global: op.what === 'activation' ? g + 1 : g - 1,
          };
          const peer = op.peerStage;
          if (msg.global < 0 || msg.global > lastGlobal || chunkAt(l, msg.global).stage !== peer)
            return bad(s, `chunk ${msg.global} does not live on stage ${peer}`);
          if (capacity === 0) {
            const peerOp = lists[peer]?.[pc[peer]];
            if (peerOp?.kind !== 'recv' || peerOp.peerStage !== s) break;
            if (!matches(msg, peerOp, peer))
              return bad(
                peer,
                `expected ${opLabel(peerOp)}, stage ${s} sends ${msg.what} ${msg.microbatch} for chunk ${msg.global}`,
              );
            received[peer].add(`${msg.what}:${msg.microbatch}:${msg.global}`);
            pc[peer]++;
            steps++;
          } else {
            const q = queue(s, peer);
            if (q.length >= capacity) break;
            q.push(msg);
          }
        } else {
          if (capacity === 0) break; // the sender completes the rendezvous
          const q = queue(op.peerStage, s);
          if (q.length === 0) break;
          const msg = q.shift()!;
          if (!matches(msg, op, s)) return bad(s, `got ${msg.what} ${msg.microbatch} for chunk ${msg.global}`);
          received[s].add(`${msg.what}:${msg.microbatch}:${msg.global}`);
        }
        pc[s]++;
        steps++;
        progressed = true;
      }
    }
    if (pc.every((p, s) => p === lists[s].length)) break;
    if (!progressed) {
      const waits = pc.map((p, s) =>
        p < lists[s].length ? `stage ${s} blocked at ${opLabel(lists[s][p])}` : `stage ${s} done`,
      );
      return { ok: false, reason: 'deadlock', detail: waits.join('; ') };
    }
  }
  const left = [...queues.entries()].filter(([, q]) => q.length > 0).map(([k]) => k);
  if (left.length > 0) return { ok: false, reason: 'bad-op', detail: `unread messages on channels ${left.join(', ')}` };
  return { ok: true, steps };
}
