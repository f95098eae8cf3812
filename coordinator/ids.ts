// Random identifiers and secrets; secrets are stored only as SHA-256 hashes and
// compared in constant time.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const newRunId = (): string => `run-${randomBytes(5).toString('hex')}`;
export const newParticipantId = (): string => `p-${randomBytes(6).toString('hex')}`;
/** PeerJS ids: alphanumeric words joined by single '-' (the peer server's own rule). */
export const peerIdFor = (runId: string, participantId: string): string =>
  `tt-${runId.slice(4)}-${participantId.slice(2)}`;
export const newSecret = (bytes = 24): string => randomBytes(bytes).toString('base64url');

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
