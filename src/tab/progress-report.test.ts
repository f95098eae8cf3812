import { describe, expect, it } from 'vitest';
import { TabMessageSchema } from '../protocol';
import type { TrainEvent } from '../train/events';
import { LinkMeter } from '../comm/link-meter';
import { ProgressReport, type Progress } from './progress-report';
import type { TabMessage } from '../protocol';

const step = (n: number, loss: number): TrainEvent => ({
  kind: 'step',
  step: n,
  loss,
  lr: 1e-3,
  gradNorm: 1,
  ms: 200,
  tokensPerSec: 640,
});
const evalAt = (n: number, loss: number): TrainEvent => ({ kind: 'eval', step: n, split: 'valid', loss });

function feed(events: TrainEvent[]): { sent: Progress[]; afterEach: number[] } {
  const sent: Progress[] = [];
  const r = new ProgressReport((m) => {
    if (m.type === 'progress') sent.push(m);
  });
  const afterEach = events.map((e) => {
    r.add(e);
    return sent.length;
  });
  return { sent, afterEach };
}

describe('ProgressReport', () => {
  it('sends each step once the next event shows whether a validation loss belongs to it', () => {
    const { sent, afterEach } = feed([
      evalAt(0, 5.6),
      step(1, 5.5),
      step(2, 5.2),
      evalAt(2, 5.1),
      step(3, 4.9),
      evalAt(3, 4.8),
      { kind: 'done', step: 3, trainLoss: 4.9, validLoss: 4.8, elapsedMs: 600 },
    ]);
    expect(afterEach).toEqual([1, 1, 2, 3, 3, 4, 4]);
    expect(sent.map((m) => [m.step, m.loss, m.valLoss])).toEqual([
      [0, undefined, 5.6],
      [1, 5.5, undefined],
      [2, 5.2, 5.1],
      [3, 4.9, 4.8],
    ]);
    expect(sent[1]).toMatchObject({ lr: 1e-3, tokensPerSec: 640, timings: { stepMs: 200 } });
    for (const m of sent) expect(TabMessageSchema.safeParse(m).success).toBe(true);
  });

  it('carries the loss scale of a mixed-precision step and whether it was skipped', () => {
    const { sent } = feed([
      { ...step(1, 5.5), lossScale: 65536, skipped: true } as TrainEvent,
      { ...step(2, 5.4), lossScale: 32768 } as TrainEvent,
      { kind: 'done', step: 2, trainLoss: 5.4, validLoss: 5.4, elapsedMs: 400 },
    ]);
    expect(sent.map((m) => [m.lossScale, m.skipped])).toEqual([
      [65536, true],
      [32768, undefined],
    ]);
    for (const m of sent) expect(TabMessageSchema.safeParse(m).success).toBe(true);
  });

  it('sends a step without evaluation when training ends or fails', () => {
    expect(
      feed([step(1, 5.5), { kind: 'done', step: 1, trainLoss: 5.5, validLoss: 5.6, elapsedMs: 1 }]).sent.map(
        (m) => m.step,
      ),
    ).toEqual([1]);
    expect(feed([step(1, 5.5), { kind: 'error', message: 'peer lost' }]).sent.map((m) => m.step)).toEqual([1]);
  });

  it('leaves out numbers the protocol would refuse', () => {
    const { sent } = feed([step(4, NaN), { kind: 'error', message: 'loss became NaN at step 4' }]);
    expect(sent[0].loss).toBeUndefined();
    expect(TabMessageSchema.safeParse(sent[0]).success).toBe(true);
  });

  it("sends a step's op timeline as spans and a saved checkpoint file, both valid protocol messages", () => {
    const sent: TabMessage[] = [];
    const r = new ProgressReport((m) => sent.push(m));
    const spans = [
      { kind: 'forward' as const, microbatch: 0, startMs: 0, endMs: 12.5 },
      { kind: 'send' as const, microbatch: 0, startMs: 12.5, endMs: 14 },
      { kind: 'optimizer' as const, startMs: 30, endMs: 31 },
    ];
    r.add({
      ...step(1, 5.5),
      breakdown: { computeMs: 12.5, p2pMs: 1.5, allReduceMs: 0, optimizerMs: 1, totalMs: 31, spans },
    } as TrainEvent);
    r.add({
      kind: 'checkpoint',
      action: 'saved',
      step: 1,
      iteration: 1,
      file: 'rank_00000.safetensors',
      bytes: 1234,
      sha256: 'a'.repeat(64),
      complete: false,
    });
    r.add({ kind: 'checkpoint', action: 'loaded', step: 1, iteration: 1, files: 2 });
    r.flush();
    expect(sent.map((m) => m.type)).toEqual(['spans', 'checkpoint', 'progress']);
    expect(sent[0]).toEqual({ type: 'spans', step: 1, spans });
    expect(sent[1]).toEqual({
      type: 'checkpoint',
      step: 1,
      name: 'rank_00000.safetensors',
      bytes: 1234,
      sha256: 'a'.repeat(64),
    });
    for (const m of sent) expect(TabMessageSchema.safeParse(m).success, JSON.stringify(m)).toBe(true);
  });

  it("sends each step's traffic as links and each local-SGD sync as round, valid protocol messages", () => {
    const sent: TabMessage[] = [];
    let t = 0;
    const meter = new LinkMeter(() => t);
    const r = new ProgressReport(
      (m) => sent.push(m),
      () => meter.take(),
    );
    const done = meter.sending(1, 4096);
    t = 10;
    done();
    r.add(step(1, 5.5));
    r.add(step(2, 5.4)); // nothing exchanged during step 2: no links message
    r.add({
      kind: 'round',
      startedAt: 2,
      appliedAt: 2,
      fragment: 0,
      fragments: 1,
      values: 100,
      bytesSent: 800,
      deltaNorm: 0.5,
      updateNorm: 0.6,
      ms: 3,
    });
    r.flush();
    expect(sent.map((m) => m.type)).toEqual(['links', 'progress', 'round', 'progress']);
    expect(sent[0]).toEqual({ type: 'links', links: [{ peerRank: 1, bytes: 4096, ms: 10, bytesIn: 0, msIn: 0 }] });
    expect(sent[2]).toMatchObject({ type: 'round', step: 2, bytes: 800, deltaNorm: 0.5, updateNorm: 0.6 });
    for (const m of sent) expect(TabMessageSchema.safeParse(m).success, JSON.stringify(m)).toBe(true);
  });
});
