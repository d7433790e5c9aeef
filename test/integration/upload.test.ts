// POST /upload, the IVR door (VXML <record> + <submit>): a real HTTP client against the running service.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { encodeWav } from '../../src/media';
import { Signal } from '../../scripts/lib/signals';
import { waitFor } from '../support/sandbox';
import type { TestService } from '../support/service';
import type { SmtpSink, WebhookReceiver } from '../support/receivers';
import { startWithReceivers, type DeliveryFixture } from '../support/delivery-fixture';
import { decodedSeconds } from '../support/audio';

const TOKEN = 'ivr-upload-token-0123456789abcdef';
const SECRET = 'crm-shared-secret-for-tests-0002';
const root = join(mkdtempSync(join(tmpdir(), 'dc-upload-')), 'recordings');
let svc: TestService;
let rx: WebhookReceiver;
let smtp: SmtpSink;
let fx: DeliveryFixture;
const wav3s = encodeWav(new Signal().speech(2000).silence(1000).noise(-50).pcm(), 8000);

beforeAll(async () => {
  fx = await startWithReceivers(SECRET, 'ivr@example.test', {
    DC_RECORDINGS_LOCAL_DIR: root,
    DC_UPLOAD_TOKENS: TOKEN,
    DC_MAX_UPLOAD_BYTES: String(200 * 1024),
  });
  ({ svc, rx, smtp } = fx);
}, 600_000);

afterAll(async () => {
  await fx?.stop();
  rmSync(dirname(root), { recursive: true, force: true });
});

function form(
  fields: [string, string][],
  file?: { field: string; name: string; type: string; data: Buffer },
): { body: Buffer; type: string } {
  const b = 'xYzBoundary42';
  const parts: Buffer[] = fields.map(([k, v]) => Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  if (file)
    parts.push(
      Buffer.from(
        `--${b}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n`,
      ),
      file.data,
      Buffer.from('\r\n'),
    );
  parts.push(Buffer.from(`--${b}--\r\n`));
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${b}` };
}

async function post(
  body: Buffer,
  type: string,
  opts: { token?: string | null; accept?: string } = {},
): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { 'content-type': type };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TOKEN}`;
  if (opts.accept) headers.accept = opts.accept;
  const res = await fetch(`${svc.portalUrl}/upload`, { method: 'POST', body: new Uint8Array(body), headers });
  return { status: res.status, text: await res.text() };
}

const good = () =>
  form(
    [
      ['ANI', '3055550123'],
      ['DNIS', '8005551000'],
    ],
    { field: 'MSG', name: 'msg.wav', type: 'audio/wav', data: wav3s },
  );

test('an IVR upload is stored atomically, catalogued before the 200, and delivered like a call', async () => {
  const { body, type } = good();
  const r = await post(body, type);
  expect(r.status).toBe(200);
  const { id } = JSON.parse(r.text) as { id: string };
  const rec = (await svc.catalog.getRecording(id))!; // catalogued before the answer
  expect(rec).toMatchObject({ source: 'upload', ani: '3055550123', dnis: '8005551000', format: 'wav' });
  expect(rec.path).toMatch(/^uploads\/\d{4}\/\d{2}\/\d{2}\/[^/]+\.wav$/);
  expect(Math.round(rec.durationMs)).toBe(3000);
  await waitFor('delivered', async () => (await svc.catalog.deliveriesOf(id)).every((d) => d.status === 'delivered'), 30_000);
  const hit = rx.delivered.get(`${id}:webhook`)!;
  expect(hit.signatureValid).toBe(true);
  expect(decodedSeconds(hit.audio, 'mp3')).toBeCloseTo(3, 0);
  const mail = await waitFor(
    'mail',
    () => smtp.messages.find((m) => m.subject === 'Recorded Message - ANI:3055550123, DNIS:8005551000'),
    10_000,
  );
  expect(decodedSeconds(mail.attachments[0]!.content, 'mp3')).toBeCloseTo(3, 0);

  const x = await post(body, type, { accept: 'application/voicexml+xml' });
  expect(x.status).toBe(200);
  expect(x.text).toMatch(/^<\?xml[^]*<vxml version="2.1"[^]*<var name="recording_id" expr="'rec_[A-Za-z0-9_-]+'"\/>/);
}, 60_000);

test('bad uploads get the right status and a reason, and keep nothing', async () => {
  const wav = { field: 'MSG', name: 'a.wav', type: 'audio/wav', data: wav3s };
  const cases: [string, { body: Buffer; type: string }, number, RegExp, { token?: string | null }?][] = [
    ['no token', good(), 401, /token/, { token: null }],
    ['wrong token', good(), 401, /token/, { token: 'x'.repeat(32) }],
    ['missing DNIS', form([['ANI', '1']], wav), 400, /DNIS/],
    [
      'bad ANI',
      form(
        [
          ['ANI', '1; rm -rf'],
          ['DNIS', '1'],
        ],
        wav,
      ),
      400,
      /ANI/,
    ],
    [
      'unknown field',
      form(
        [
          ['ANI', '1'],
          ['DNIS', '2'],
          ['CALLER', 'x'],
        ],
        wav,
      ),
      400,
      /unknown field\(s\): CALLER/,
    ],
    [
      'MSG as text',
      form([
        ['ANI', '1'],
        ['DNIS', '2'],
        ['MSG', 'hello'],
      ]),
      400,
      /MSG must be a file/,
    ],
    [
      'other file field',
      form(
        [
          ['ANI', '1'],
          ['DNIS', '2'],
        ],
        { ...wav, field: 'FILE' },
      ),
      400,
      /unexpected file field \\"FILE\\"/,
    ],
    [
      'not audio',
      form(
        [
          ['ANI', '1'],
          ['DNIS', '2'],
        ],
        { ...wav, data: Buffer.from('#!/bin/sh\necho owned\n') },
      ),
      415,
      /not a WAV/,
    ],
    [
      'too large',
      form(
        [
          ['ANI', '1'],
          ['DNIS', '2'],
        ],
        { ...wav, data: Buffer.concat([wav3s, Buffer.alloc(300 * 1024)]) },
      ),
      413,
      /larger than/,
    ],
    ['not multipart', { body: Buffer.from('{"ANI":"1"}'), type: 'application/json' }, 415, /multipart/],
  ];
  for (const [name, f, status, reason, opts] of cases) {
    const r = await post(f.body, f.type, opts ?? {});
    expect([name, r.status]).toEqual([name, status]);
    expect([name, r.text]).toEqual([name, expect.stringMatching(reason)]);
  }
});

test('1,000 malformed uploads: a 4xx each, nothing written outside the recordings root, the service stays up', async () => {
  const before = readdirSync(dirname(root)).sort();
  const uploadsBefore = (await svc.catalog.listRecordings({ limit: 1000 })).length;
  let seed = 1234;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const statuses = new Map<number, number>();
  for (let i = 0; i < 1000; i++) {
    const kind = i % 6;
    let f: { body: Buffer; type: string };
    if (kind === 0) {
      const g = good();
      f = { body: g.body.subarray(0, Math.floor(rand() * g.body.length)), type: g.type }; // truncated
    } else if (kind === 1) {
      f = form(
        [
          ['ANI', 'A'.repeat(1000 + Math.floor(rand() * 5000))],
          ['DNIS', '1'],
        ],
        { field: 'MSG', name: 'a.wav', type: 'audio/wav', data: wav3s },
      ); // huge field
    } else if (kind === 2) {
      const names = ['../../../../etc/passwd', '/etc/shadow', '..\\..\\win.ini', 'a/../../b.wav', '\u0000.wav'];
      f = form(
        [
          ['ANI', '1'],
          ['DNIS', '2'],
        ],
        { field: 'MSG', name: names[i % names.length]!, type: 'audio/wav', data: Buffer.from(`not audio ${i}`) },
      ); // path-like names, bad content
    } else if (kind === 3) {
      f = {
        body: Buffer.from(Array.from({ length: 200 + Math.floor(rand() * 2000) }, () => Math.floor(rand() * 256))),
        type: 'multipart/form-data; boundary=xYzBoundary42',
      }; // garbage
    } else if (kind === 4) {
      f = form(
        [
          ['ANI', '1'],
          ['DNIS', '2'],
        ],
        { field: 'MSG', name: 'x.wav', type: 'audio/wav', data: wav3s.subarray(0, 20) },
      ); // truncated WAV header
    } else {
      f = form(
        Array.from({ length: 8 }, (_, k) => [`F${k}`, 'v'] as [string, string]),
        { field: 'MSG', name: 'x.wav', type: 'audio/wav', data: wav3s },
      ); // too many fields
    }
    const r = await post(f.body, f.type);
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    if (r.status < 400 || r.status >= 500) throw new Error(`case ${i} (kind ${kind}) got ${r.status}: ${r.text}`);
  }
  expect([...statuses.keys()].every((s) => s >= 400 && s < 500)).toBe(true);
  expect(readdirSync(dirname(root)).sort()).toEqual(before);
  expect(readdirSync(join(root, '.incoming'))).toEqual([]);
  expect((await svc.catalog.listRecordings({ limit: 1000 })).length).toBe(uploadsBefore);
  const health = await fetch(`${svc.portalUrl}/healthz`);
  expect(health.status).toBe(200);
}, 120_000);

test('WAV headers are checked against the file: a 4 GB claim over 100 bytes, a 3-byte data chunk; the reason never names a temporary file', async () => {
  const huge = Buffer.from(wav3s.subarray(0, 144));
  huge.writeUInt32LE(0xfffffff0, 40); // data chunk "4 GB"
  const tiny = Buffer.concat([wav3s.subarray(0, 44), Buffer.from([1, 2, 3])]);
  tiny.writeUInt32LE(3, 40);
  tiny.writeUInt32LE(36 + 3, 4);
  const cases: [Buffer, number, RegExp][] = [
    [huge, 415, /declares 4294967280 bytes of audio but the file holds 100/],
    [tiny, 400, /holds no audio/],
    [Buffer.from('plainly not audio at all'), 415, /not a WAV file/],
  ];
  for (const [data, status, reason] of cases) {
    const { body, type } = form(
      [
        ['ANI', '3055550123'],
        ['DNIS', '8005551000'],
      ],
      { field: 'MSG', name: 'x.wav', type: 'audio/wav', data },
    );
    const r = await post(body, type);
    expect({ status: r.status, reason: reason.test(r.text) }).toEqual({ status, reason: true });
    expect(r.text).not.toMatch(/\.part|\.incoming/);
  }
  expect(readdirSync(join(root, '.incoming'))).toEqual([]);
});

test('a VoiceXML reply carries values as ECMAScript strings: a quote in a field name cannot end the expression', async () => {
  const { body, type } = form(
    [
      ["DNIS', x='1", '1'],
      ['DNIS', '8005551000'],
    ],
    { field: 'MSG', name: 'x.wav', type: 'audio/wav', data: wav3s },
  );
  const r = await post(body, type, { accept: 'application/voicexml+xml' });
  expect(r.status).toBe(400);
  const expr = /<var name="error" expr="([^"]*)"\/>/.exec(r.text)?.[1];
  expect(expr).toBeDefined();
  // One string literal from the first quote to the last, no quote or XML entity inside.
  expect(expr).toMatch(/^'[^'&<>"]*'$/);
  expect(expr).toContain('\\u0027');
  const value = JSON.parse(`"${expr!.slice(1, -1)}"`) as string;
  expect(value).toContain("DNIS', x='1");
});

test('uploads beyond portal.maxConcurrentUploads (4) get 429 with Retry-After before their body is read', async () => {
  const { request } = await import('node:http');
  const url = new URL(`${svc.portalUrl}/upload`);
  const { body, type } = good();
  // Four uploads that send half their body and then wait.
  const held = Array.from({ length: 4 }, () => {
    const req = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': type, authorization: `Bearer ${TOKEN}`, 'content-length': body.length },
    });
    const done = new Promise<number>((resolve) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(-1));
    });
    req.write(body.subarray(0, body.length >> 1));
    return { req, done };
  });
  await new Promise((r) => setTimeout(r, 300));
  const r = await fetch(url, {
    method: 'POST',
    body: new Uint8Array(body),
    headers: { 'content-type': type, authorization: `Bearer ${TOKEN}` },
  });
  expect(r.status).toBe(429);
  expect(r.headers.get('retry-after')).toBe('1');
  for (const h of held) h.req.end(body.subarray(body.length >> 1));
  expect(await Promise.all(held.map((h) => h.done))).toEqual([200, 200, 200, 200]);
  // and once they are done, the next one is taken
  expect((await post(body, type)).status).toBe(200);
});
