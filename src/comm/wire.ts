// What travels on a data channel. A message of `total` bytes (one transfer, numbered
// per sender→receiver pair from 0) is cut into parts, one per channel; each part is a
// JSON header string followed by its bytes as binary messages of ≤ chunkBytes on the
// same (ordered) channel. Control notices are JSON strings too.

export interface PartHeader {
  k: 'part';
  /** transfer id: 0, 1, 2, … per sender → receiver */
  i: number;
  /** tag */
  g: string;
  /** total bytes of the transfer */
  n: number;
  /** byte offset and length of this part */
  o: number;
  l: number;
}

export interface LostNotice {
  k: 'lost';
  /** the rank that is gone */
  r: number;
  why: string;
}

export type WireNotice = PartHeader | LostNotice;

const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** Parses a string message; returns an error description instead of throwing. */
export function parseNotice(text: string): WireNotice | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return `unparseable control message ${JSON.stringify(text.slice(0, 80))}`;
  }
  const m = v as {
    k?: unknown;
    i?: unknown;
    g?: unknown;
    n?: unknown;
    o?: unknown;
    l?: unknown;
    r?: unknown;
    why?: unknown;
  } | null;
  if (m?.k === 'part') {
    if (
      !isNat(m.i) ||
      typeof m.g !== 'string' ||
      !isNat(m.n) ||
      !isNat(m.o) ||
      !isNat(m.l) ||
      (m.o as number) + (m.l as number) > (m.n as number)
    ) {
      return `malformed part header ${text.slice(0, 200)}`;
    }
    return { k: 'part', i: m.i, g: m.g, n: m.n, o: m.o, l: m.l };
  }
  if (m?.k === 'lost' && isNat(m.r)) return { k: 'lost', r: m.r, why: String(m.why ?? '') };
  return `unknown control message ${text.slice(0, 200)}`;
}

export interface PartPlan {
  channel: number;
  offset: number;
  length: number;
}

/** Splits `total` bytes into whole chunks spread evenly over up to `channels` parts,
 *  starting at channel `first` (so small messages rotate over the channels). */
export function planParts(total: number, channels: number, chunkBytes: number, first = 0): PartPlan[] {
  const nChunks = Math.max(1, Math.ceil(total / chunkBytes));
  const k = Math.min(channels, nChunks);
  const parts: PartPlan[] = [];
  let chunk = 0;
  for (let p = 0; p < k; p++) {
    const take = Math.floor(nChunks / k) + (p < nChunks % k ? 1 : 0);
    const offset = Math.min(total, chunk * chunkBytes);
    const end = Math.min(total, (chunk + take) * chunkBytes);
    parts.push({ channel: (first + p) % channels, offset, length: end - offset });
    chunk += take;
  }
  return parts;
}
