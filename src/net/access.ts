import { createHash, timingSafeEqual } from 'node:crypto';

// Who may talk to a door of ours: an address allow-list and shared secrets (FastAGI, /metrics, /upload).

/** ::ffff:127.0.0.1 and 127.0.0.1 are the same peer. */
export function normalizeAddress(a: string | undefined): string {
  return (a ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

export function peerAllowed(remote: string | undefined, allow: readonly string[]): boolean {
  const peer = normalizeAddress(remote);
  return allow.some((a) => normalizeAddress(a) === peer);
}

/** Compares secrets in constant time, whatever their lengths (both are hashed first). */
export function sameSecret(given: string, expected: string): boolean {
  const h = (x: string) => createHash('sha256').update(x).digest();
  return timingSafeEqual(h(given), h(expected));
}
