// GPT-2's byte-level BPE writes each byte of a token as one printable Unicode character:
// the printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves and the
// other 68 bytes (controls, space, ...) take the code points 256, 257, ... in byte order.
// vocab.json, merges.txt and tokenizer.json all spell tokens this way (space is 'Ġ').

function printable(b: number): boolean {
  return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

/** byte (0..255) → its character */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const out: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(printable(b) ? b : next++));
  return out;
})();

const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

export function bytesToTokenString(bytes: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]];
  return s;
}

/** The bytes a token string stands for; null when a character is not one of the 256. */
export function tokenStringToBytes(s: string): Uint8Array | null {
  const chars = [...s];
  const out = new Uint8Array(chars.length);
  for (let i = 0; i < chars.length; i++) {
    const b = CHAR_TO_BYTE.get(chars[i]);
    if (b === undefined) return null;
    out[i] = b;
  }
  return out;
}
