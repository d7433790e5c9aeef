import { createHmac, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export interface AttemptResult {
  outcome: 'delivered' | 'retry' | 'dead';
  httpStatus?: number;
  error?: string;
  /** From Retry-After, when the receiver asked for a pause. */
  retryAfterMs?: number;
}

export const SIGNATURE_HEADER = 'x-dc-signature';
export const TIMESTAMP_HEADER = 'x-dc-timestamp';
export const USER_AGENT = 'dialplan-companion/0.1 (+recording webhook)';

/** HMAC-SHA256 over "<timestamp>.<body>", hex: what a receiver recomputes with the shared secret. */
export function sign(secret: string, timestamp: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

function multipart(metadata: unknown, file: { name: string; contentType: string; data: Buffer }): { body: Buffer; contentType: string } {
  const boundary = `dc-${randomBytes(12).toString('hex')}`;
  const safeName = file.name.replace(/[^A-Za-z0-9._-]/g, '_');
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(metadata)}\r\n`,
    ),
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="audio"; filename="${safeName}"\r\nContent-Type: ${file.contentType}\r\n\r\n`,
    ),
    file.data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

export function retryAfterMs(v: string | null, now = Date.now()): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/**
 * POSTs one recording to a CRM webhook: multipart/form-data with a JSON `metadata` part and the `audio`
 * file (or, in link mode, the metadata alone as JSON with a signed download link), signed (HMAC-SHA256 of timestamp + body), with the delivery's idempotency key. 2xx = delivered;
 * network errors, 408, 429 and 5xx = retry; any other 4xx = dead at once (the request itself is wrong).
 */
export async function postRecording(o: {
  url: string;
  secret: string;
  idempotencyKey: string;
  metadata: unknown;
  /** The audio as a part; absent: a JSON body (the metadata carries a download link instead). */
  file?: { path: string; name: string; contentType: string };
  timeoutMs?: number;
}): Promise<AttemptResult> {
  const { body, contentType } = o.file
    ? multipart(o.metadata, { name: o.file.name, contentType: o.file.contentType, data: await readFile(o.file.path) })
    : { body: Buffer.from(JSON.stringify(o.metadata)), contentType: 'application/json' };
  const timestamp = String(Math.floor(Date.now() / 1000));
  let res: Response;
  try {
    res = await fetch(o.url, {
      method: 'POST',
      body: new Uint8Array(body),
      headers: {
        'content-type': contentType,
        'user-agent': USER_AGENT,
        'idempotency-key': o.idempotencyKey,
        [TIMESTAMP_HEADER]: timestamp,
        [SIGNATURE_HEADER]: sign(o.secret, timestamp, body),
      },
      redirect: 'manual',
      signal: AbortSignal.timeout(o.timeoutMs ?? 30_000),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    return { outcome: 'retry', error: `network: ${cause}` };
  }
  const text = (await res.text().catch(() => '')).slice(0, 200);
  const s = res.status;
  if (s >= 200 && s < 300) return { outcome: 'delivered', httpStatus: s };
  if (s === 408 || s === 429 || s >= 500)
    return {
      outcome: 'retry',
      httpStatus: s,
      error: `HTTP ${s} ${text}`.trim(),
      retryAfterMs: retryAfterMs(res.headers.get('retry-after')),
    };
  return { outcome: 'dead', httpStatus: s, error: `HTTP ${s} ${text}`.trim() };
}
