import { describe, expect, it } from 'vitest';
import { LinkMeter } from '../comm/link-meter';
import { TabMessageSchema } from '../protocol';
import { linksMessage, roundMessage } from './link-report';

describe("a tab's traffic reports", () => {
  it('turns a step of link counters into a valid links message, peers without traffic left out', () => {
    let t = 0;
    const m = new LinkMeter(() => t);
    const done = m.sending(2, 3_000_000);
    t = 250;
    m.received(1, 500_000, 50, 100_000);
    done();
    m.sending(3, 0)();
    const msg = linksMessage(m.take());
    expect(msg).toEqual({
      type: 'links',
      links: [
        { peerRank: 1, bytes: 0, ms: 0, bytesIn: 400_000, msIn: 200 },
        { peerRank: 2, bytes: 3_000_000, ms: 250, bytesIn: 0, msIn: 0 },
      ],
    });
    expect(TabMessageSchema.parse(msg)).toEqual(msg);
    expect(linksMessage(m.take())).toBeNull();
  });

  it('turns a local-SGD report into a valid round message', () => {
    const msg = roundMessage({
      startedAt: 500,
      appliedAt: 502,
      fragment: 1,
      fragments: 2,
      values: 1000,
      bytesSent: 2100,
      deltaNorm: 0.25,
      updateNorm: 0.4,
      ms: 12.5,
    });
    expect(TabMessageSchema.parse(msg)).toEqual({
      type: 'round',
      step: 502,
      fragment: 1,
      fragments: 2,
      bytes: 2100,
      deltaNorm: 0.25,
      updateNorm: 0.4,
      ms: 12.5,
    });
  });
});
