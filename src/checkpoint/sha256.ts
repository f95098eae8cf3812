// SHA-256 of a file's bytes as lowercase hex, through WebCrypto (Node ≥ 20, pages, workers).

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

export const isSha256Hex = (s: string): boolean => /^[0-9a-f]{64}$/.test(s);
