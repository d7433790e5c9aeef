import { createHmac, timingSafeEqual } from 'node:crypto';

// Download links that work without a login for a limited time: the recording id and the expiry, signed
// with the service's link secret. Ids, never paths, appear in URLs.

function mac(secret: string, id: string, expires: number): string {
  return createHmac('sha256', secret).update(`${id}\n${expires}`).digest('base64url');
}

export function signedDownloadUrl(baseUrl: string, secret: string, id: string, ttlMs: number, now = Date.now()): string {
  const expires = Math.floor((now + ttlMs) / 1000);
  return `${baseUrl.replace(/\/$/, '')}/recordings/${encodeURIComponent(id)}/download?expires=${expires}&sig=${mac(secret, id, expires)}`;
}

export function verifyDownload(
  secret: string,
  id: string,
  expires: string | undefined,
  sig: string | undefined,
  now = Date.now(),
): 'ok' | 'expired' | 'bad' {
  if (!expires || !sig || !/^\d{1,12}$/.test(expires)) return 'bad';
  const want = Buffer.from(mac(secret, id, Number(expires)));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return 'bad';
  return Number(expires) * 1000 < now ? 'expired' : 'ok';
}
