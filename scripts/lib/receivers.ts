// Real receivers on loopback, for the demo and the transport tests: a CRM-like webhook endpoint and an SMTP server.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface WebhookHit {
  status: number;
  idempotencyKey: string;
  signatureValid: boolean;
  userAgent: string;
  metadata: Record<string, unknown>;
  audio: Buffer;
  audioType: string;
}

/** Splits a multipart/form-data body into its parts (enough for what our sender writes). */
function parts(body: Buffer, contentType: string): { name: string; type: string; data: Buffer }[] {
  const boundary = /boundary=([^;]+)/.exec(contentType)?.[1];
  if (!boundary) return [];
  const out: { name: string; type: string; data: Buffer }[] = [];
  const delim = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delim);
  while (pos >= 0) {
    const next = body.indexOf(delim, pos + delim.length);
    if (next < 0) break;
    const chunk = body.subarray(pos + delim.length + 2, next - 2);
    const headEnd = chunk.indexOf('\r\n\r\n');
    const head = chunk.subarray(0, headEnd).toString();
    out.push({
      name: /name="([^"]+)"/.exec(head)?.[1] ?? '',
      type: /Content-Type: (.+)/i.exec(head)?.[1]?.trim() ?? '',
      data: chunk.subarray(headEnd + 4),
    });
    pos = next;
  }
  return out;
}

/**
 * An idempotent receiver: verifies the signature, stores each idempotency key once. `respond` decides the
 * status of each request (default 200); `null` means stop listening (connection refused).
 */
export class WebhookReceiver {
  readonly hits: WebhookHit[] = [];
  readonly delivered = new Map<string, WebhookHit>();
  respond: (n: number) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 });
  /** Answer this much later (a slow CRM). */
  delayMs = 0;
  private server: Server | undefined;
  port = 0;

  constructor(private readonly secret: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/crm/recordings`;
  }

  async listen(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const ts = String(req.headers['x-dc-timestamp'] ?? '');
        const want = `sha256=${createHmac('sha256', this.secret).update(`${ts}.`).update(body).digest('hex')}`;
        const got = String(req.headers['x-dc-signature'] ?? '');
        const ps = parts(body, String(req.headers['content-type'] ?? ''));
        const meta = ps.find((p) => p.name === 'metadata');
        const audio = ps.find((p) => p.name === 'audio');
        const { status, headers } = this.respond(this.hits.length + 1);
        const hit: WebhookHit = {
          status,
          idempotencyKey: String(req.headers['idempotency-key'] ?? ''),
          signatureValid: got.length === want.length && timingSafeEqual(Buffer.from(got), Buffer.from(want)),
          userAgent: String(req.headers['user-agent'] ?? ''),
          metadata: meta
            ? (JSON.parse(meta.data.toString()) as Record<string, unknown>)
            : /json/.test(String(req.headers['content-type']))
              ? (JSON.parse(body.toString()) as Record<string, unknown>)
              : {},
          audio: audio?.data ?? Buffer.alloc(0),
          audioType: audio?.type ?? '',
        };
        this.hits.push(hit);
        if (status >= 200 && status < 300 && !this.delivered.has(hit.idempotencyKey)) this.delivered.set(hit.idempotencyKey, hit);
        setTimeout(() => res.writeHead(status, headers).end(status < 300 ? 'ok' : 'not now'), this.delayMs);
      });
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    const closed = new Promise<void>((r) => s.close(() => r()));
    s.closeAllConnections();
    await closed;
  }
}

/** A real SMTP server on loopback that keeps every message, parsed. */
export class SmtpSink {
  readonly messages: ParsedMail[] = [];
  private server: SMTPServer | undefined;
  port = 0;

  async listen(port = 0): Promise<void> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      size: 50 * 1024 * 1024,
      onData: (stream, _session, cb) => {
        simpleParser(stream).then(
          (m) => {
            this.messages.push(m);
            cb();
          },
          (e: Error) => cb(e),
        );
      },
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', () => r()));
    this.port = (this.server!.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
