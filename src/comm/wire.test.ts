import { describe, expect, it } from 'vitest';
import { Inbound } from './inbound';
import { Mailbox } from './mailbox';
import { testBytes } from './test-helpers';
import { parseNotice, planParts, type PartHeader } from './wire';

describe('planParts', () => {
  it.each([
    [0, 1],
    [0, 3],
    [1, 2],
    [100, 1],
    [1000, 3],
    [5 * 64 + 1, 4],
    [64 * 64, 2],
  ])('%i bytes over %i channels: whole chunks, contiguous, covering', (total, channels) => {
    const parts = planParts(total, channels, 64, 1);
    expect(parts.length).toBeGreaterThanOrEqual(1);
    expect(parts.length).toBeLessThanOrEqual(channels);
    let at = 0;
    for (const p of parts) {
      expect(p.offset).toBe(at);
      expect(p.channel).toBeLessThan(channels);
      at += p.length;
    }
    expect(at).toBe(total);
    for (const p of parts.slice(0, -1)) expect(p.length % 64).toBe(0);
    expect(new Set(parts.map((p) => p.channel)).size).toBe(parts.length);
  });

  it('rotates a one-part message to the requested channel', () => {
    expect(planParts(10, 4, 64, 3)).toEqual([{ channel: 3, offset: 0, length: 10 }]);
  });
});

describe('parseNotice', () => {
  it('accepts part headers and lost notices, and describes anything else', () => {
    expect(parseNotice('{"k":"part","i":1,"g":"t","n":10,"o":2,"l":8}')).toEqual({
      k: 'part',
      i: 1,
      g: 't',
      n: 10,
      o: 2,
      l: 8,
    });
    expect(parseNotice('{"k":"lost","r":3,"why":"closed"}')).toEqual({ k: 'lost', r: 3, why: 'closed' });
    expect(parseNotice('{"k":"part","i":1,"g":"t","n":10,"o":4,"l":8}')).toMatch(/malformed part header/);
    expect(parseNotice('nope')).toMatch(/unparseable/);
    expect(parseNotice('{"k":"hello"}')).toMatch(/unknown control message/);
  });
});

/** Cuts one transfer the way the sender does: per part, a header then chunks. */
function frames(
  id: number,
  tag: string,
  data: Uint8Array,
  channels: number,
  chunk: number,
): Array<[number, PartHeader | ArrayBuffer]> {
  const out: Array<[number, PartHeader | ArrayBuffer]> = [];
  for (const p of planParts(data.length, channels, chunk, id % channels)) {
    out.push([p.channel, { k: 'part', i: id, g: tag, n: data.length, o: p.offset, l: p.length }]);
    for (let at = p.offset; at < p.offset + p.length; at += chunk)
      out.push([p.channel, data.slice(at, Math.min(p.offset + p.length, at + chunk)).buffer]);
  }
  return out;
}

function feed(inbound: Inbound, list: Array<[number, PartHeader | ArrayBuffer]>): void {
  for (const [ch, m] of list) m instanceof ArrayBuffer ? inbound.binary(ch, m) : inbound.header(ch, m);
}

describe('Inbound reassembly', () => {
  it('rebuilds transfers split over channels, delivering one tag in send order even when a later one completes first', async () => {
    const errors: string[] = [];
    const mailbox = new Mailbox(1, 0);
    const completed: Array<[number, number]> = [];
    const inbound = new Inbound(
      mailbox,
      (e) => errors.push(e),
      (bytes, _firstAt, firstBytes) => completed.push([bytes, firstBytes]),
    );
    const big = testBytes(1, 1000);
    const small = testBytes(2, 5);
    const empty = new Uint8Array(0);
    const perChannel = (list: Array<[number, PartHeader | ArrayBuffer]>, ch: number) => list.filter(([c]) => c === ch);
    const a = frames(0, 'x', big, 2, 64);
    const b = frames(1, 'x', small, 2, 64); // one part, on channel 1
    const c = frames(2, 'y', empty, 2, 64);
    // channel 1 carries b before channel 0 has delivered a's header
    feed(inbound, [...perChannel(a, 1), ...b, ...c]);
    feed(inbound, perChannel(a, 0));
    expect(errors).toEqual([]);
    expect(await mailbox.take('x', { bytes: 1000 })).toEqual(big);
    expect(await mailbox.take('x', { bytes: 5 })).toEqual(small);
    expect(await mailbox.take('y', { bytes: 0 })).toEqual(empty);
    // the link meter hears of each transfer once: its size and the bytes of its first piece
    expect(completed.sort((x, y) => x[0] - y[0])).toEqual([
      [0, 0],
      [5, 5],
      [1000, 64],
    ]);
  });

  it('reports bytes outside a transfer, too many bytes, and a header inside a part', () => {
    const cases: Array<[string, (i: Inbound) => void]> = [
      ['outside any transfer', (i) => i.binary(0, new ArrayBuffer(4))],
      [
        'remained in its part',
        (i) => {
          i.header(0, { k: 'part', i: 0, g: 't', n: 4, o: 0, l: 4 });
          i.binary(0, new ArrayBuffer(8));
        },
      ],
      [
        'still had 4 bytes to come',
        (i) => {
          i.header(0, { k: 'part', i: 0, g: 't', n: 4, o: 0, l: 4 });
          i.header(0, { k: 'part', i: 1, g: 't', n: 4, o: 0, l: 4 });
        },
      ],
      [
        'announced as',
        (i) => {
          i.header(0, { k: 'part', i: 0, g: 't', n: 8, o: 0, l: 4 });
          i.header(1, { k: 'part', i: 0, g: 'u', n: 8, o: 4, l: 4 });
        },
      ],
    ];
    for (const [want, act] of cases) {
      const errors: string[] = [];
      act(new Inbound(new Mailbox(1, 0), (e) => errors.push(e)));
      expect(errors.join(' | ')).toContain(want);
    }
  });

  it('fails a transfer still arriving when the peer fails', async () => {
    const mailbox = new Mailbox(1, 0);
    const inbound = new Inbound(mailbox, () => {});
    inbound.header(0, { k: 'part', i: 0, g: 't', n: 100, o: 0, l: 100 });
    inbound.binary(0, new ArrayBuffer(10));
    const pending = mailbox.take('t', { op: 'p2p' });
    inbound.fail('peer lost: gone');
    await expect(pending).rejects.toThrow(/p2p: rank 1 ⇄ rank 0: peer lost: gone/);
  });
});
