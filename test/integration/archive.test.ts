// The archive on a real S3 API server (s3rver on loopback): recordings uploaded and verified, the local copy
// removed once delivered (recordings.keepLocal off), the portal playing and downloading from the bucket with
// Range, and the bucket away during uploads: recordings stay local and catalogued, then are archived.
// On SQLite, and again on PostgreSQL in npm test's PostgreSQL pass.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../../src/media';
import { bucketOf, loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { Bucket, sweepRetention } from '../../src/recordings';
import { Signal } from '../../scripts/lib/signals';
import { startS3, type TestS3 } from '../../scripts/lib/s3-server';
import { startWithReceivers, type DeliveryFixture } from '../support/delivery-fixture';
import { portalLogin } from '../support/portal-client';
import { catalogEnv, catalogLocation } from '../support/pg';
import { waitFor } from '../support/sandbox';

const SECRET = 'test-webhook-secret-0123456789';
const OUTAGE_MS = Number(process.env.DC_TEST_BUCKET_OUTAGE_MS ?? 1500);
const TOKEN = 'ivr-upload-token-0123456789abcdef';
const PASSWORD = 'correct horse battery';
const dir = mkdtempSync(join(tmpdir(), 'dc-archive-'));
const root = join(dir, 'recordings');
let fx: DeliveryFixture;
let s3: TestS3;

beforeAll(async () => {
  s3 = await startS3();
  fx = await startWithReceivers(SECRET, 'archive@example.test', {
    DC_RECORDINGS_LOCAL_DIR: root,
    DC_UPLOAD_TOKENS: TOKEN,
    DC_RECORDINGS_KEEP_LOCAL: 'false',
    DC_S3_POLL_MS: '200',
    DC_S3_MAX_BACKOFF_MS: '1000',
    DC_MONITOR_INTERVAL_MS: '300',
    DC_MONITOR_FAILURES: '2',
    DC_INSTANCE: 'pbx-archive',
    ...s3.env,
    ...catalogEnv(await catalogLocation(dir), dir),
  });
  await fx.svc.catalog.users.add('root', PASSWORD, { role: 'admin' });
}, 600_000);

afterAll(async () => {
  await fx?.stop();
  await s3?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

async function upload(seconds: number, ani: string): Promise<{ id: string; wav: Buffer }> {
  const wav = encodeWav(
    new Signal()
      .speech(seconds * 700)
      .silence(seconds * 300)
      .noise(-50)
      .pcm(),
    8000,
  );
  const b = 'xYzBoundary42';
  const body = Buffer.concat([
    Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="ANI"\r\n\r\n${ani}\r\n`),
    Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="DNIS"\r\n\r\n8005551000\r\n`),
    Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="MSG"; filename="m.wav"\r\nContent-Type: audio/wav\r\n\r\n`),
    wav,
    Buffer.from(`\r\n--${b}--\r\n`),
  ]);
  const res = await fetch(`${fx.svc.portalUrl}/upload`, {
    method: 'POST',
    body: new Uint8Array(body),
    headers: { 'content-type': `multipart/form-data; boundary=${b}`, authorization: `Bearer ${TOKEN}`, accept: 'application/json' },
  });
  expect(res.status).toBe(200);
  const j = (await res.json()) as { id: string };
  return { id: j.id, wav };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** The first test's recordings: archived, delivered, local copies gone (the retention test deletes them). */
const archived: string[] = [];

test('uploaded, verified, the local copy removed once delivered; the portal plays and downloads it from the bucket with Range', async () => {
  const { svc } = fx;
  const a = await upload(3, '3055550101');
  const b = await upload(40, '3055550102'); // 640 KB: enough to seek in
  archived.push(a.id, b.id);
  for (const x of [a, b]) {
    const rec = await waitFor(`${x.id} archived`, async () => {
      const r = await svc.catalog.getRecording(x.id);
      return r?.objectKey ? r : undefined;
    });
    expect(rec.objectKey).toMatch(new RegExp(`^recordings/uploads/\\d{4}/\\d{2}/\\d{2}/${rec.id}\\.wav$`));
    const stored = s3.stored(rec.objectKey!);
    expect(stored && sha(stored)).toBe(rec.sha256);
    expect(sha(x.wav)).toBe(rec.sha256);
    // Delivered (webhook and mail), then the PBX's copy goes: the bucket is the archive.
    await waitFor(`${x.id} delivered`, async () => (await svc.catalog.deliveriesOf(x.id)).every((d) => d.status === 'delivered'), 30_000);
    await waitFor(`${x.id} local copy removed`, async () => (await svc.catalog.getRecording(x.id))?.localRemovedAt, 10_000);
    expect(existsSync(join(root, rec.path))).toBe(false);
  }

  const { cookie } = await portalLogin(svc.portalUrl, 'root', PASSWORD);
  const range = await fetch(`${svc.portalUrl}/recordings/${b.id}/audio`, { headers: { cookie, range: 'bytes=300000-300999' } });
  expect(range.status).toBe(206);
  expect(range.headers.get('content-range')).toBe(`bytes 300000-300999/${b.wav.length}`);
  expect(Buffer.from(await range.arrayBuffer())).toEqual(b.wav.subarray(300000, 301000));
  const whole = await fetch(`${svc.portalUrl}/recordings/${b.id}/download`, { headers: { cookie } });
  expect(whole.status).toBe(200);
  expect(sha(Buffer.from(await whole.arrayBuffer()))).toBe(sha(b.wav));
  const page = await fetch(`${svc.portalUrl}/recordings/${b.id}`, { headers: { cookie } });
  expect(page.status).toBe(200);
});

test(
  'the bucket away during uploads: recordings stay local and catalogued, /readyz names it, then they are archived',
  async () => {
    const { svc } = fx;
    await s3.stop();
    const ups = [await upload(2, '3055550201'), await upload(2, '3055550202'), await upload(2, '3055550203')];
    for (const u of ups) {
      const r = (await svc.catalog.getRecording(u.id))!;
      expect(r.state).toBe('complete');
      expect(r.objectKey).toBeNull();
      expect(statSync(join(root, r.path)).size).toBe(u.wav.length);
    }
    const ready = await fetch(`${svc.portalUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { problems: string[] }).problems.join(' ')).toMatch(/bucket: .*recordings stay local/);
    await waitFor('the archiver noticing', () =>
      svc.logs.some((l) => String(l.msg).startsWith('archive: the bucket does not take uploads')),
    );
    // 1.5 s in npm test; DC_TEST_BUCKET_OUTAGE_MS=120000 is the two minutes (run by hand: same path, longer).
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await s3.start();
    for (const u of ups) {
      const rec = await waitFor(
        `${u.id} archived after the outage`,
        async () => {
          const r = await svc.catalog.getRecording(u.id);
          return r?.objectKey ? r : undefined;
        },
        20_000,
      );
      expect(sha(s3.stored(rec.objectKey!)!)).toBe(sha(u.wav));
    }
    // Logged once the pass that archived them has finished (its last step, removing local copies, may still run).
    await waitFor(
      'the archiver saying so',
      () => svc.logs.some((l) => l.msg === 'archive: the bucket answers again; uploads resumed'),
      10_000,
    );
    // The connectivity monitor saw it too: one outage of the bucket, from this instance, closed when it came back.
    const outage = await waitFor(
      'the bucket outage closed',
      async () => (await svc.catalog.outages.list({ target: `bucket ${s3.endpoint}/${s3.bucket}` })).find((o) => o.endedAt),
      10_000,
    );
    expect(outage).toMatchObject({ kind: 'bucket', instance: 'pbx-archive' });
    expect(outage.durationMs).toBeGreaterThanOrEqual(OUTAGE_MS / 2); // from its first failed check to its first good one
  },
  OUTAGE_MS + 60_000,
);

test('retention deletes the archived audio from the bucket: the row stays, the object is gone, the player says 410', async () => {
  const { svc } = fx;
  const bucket = new Bucket(bucketOf(loadConfig({ env: s3.env }))!);
  try {
    // Three days on, with a one-day rule: everything delivered so far is past it.
    const purged = await sweepRetention(
      { catalog: svc.catalog, root, days: 1, log: createLogger('silent'), bucket },
      new Date(Date.now() + 3 * 86_400_000),
    );
    expect(purged).toBeGreaterThanOrEqual(archived.length);
    const { cookie } = await portalLogin(svc.portalUrl, 'root', PASSWORD);
    for (const id of archived) {
      const rec = (await svc.catalog.getRecording(id))!;
      expect(rec.purgedAt).not.toBeNull();
      expect(s3.stored(rec.objectKey!)).toBeUndefined();
      expect(await bucket.head(rec.objectKey!)).toBeUndefined();
      expect((await fetch(`${svc.portalUrl}/recordings/${id}/audio`, { headers: { cookie } })).status).toBe(410);
    }
  } finally {
    bucket.close();
  }
});

test('write checks that overlap (the monitor, /readyz) share one probe of the bucket: every caller gets its answer', async () => {
  const bucket = new Bucket(bucketOf(loadConfig({ env: s3.env }))!);
  // Counts the requests that reach the bucket (the client the Bucket sends them with).
  const client = (bucket as unknown as { s3: { send: (c: object) => Promise<unknown> } }).s3;
  const send = client.send.bind(client);
  const puts: string[] = [];
  client.send = (c: object) => {
    if (c.constructor.name === 'PutObjectCommand') puts.push((c as { input: { Key: string } }).input.Key);
    return send(c);
  };
  try {
    // Overlapping writes and deletes of the one probe object crashed s3rver (ENOENT, uncaught) in a CI run.
    await Promise.all(Array.from({ length: 5 }, () => bucket.check()));
    expect(puts).toEqual(['recordings/.dc-write-probe']);
    await bucket.check(); // a check asked after the last one ended is a new one
    expect(puts).toHaveLength(2);
    expect(s3.stored('recordings/.dc-write-probe')).toBeUndefined();
  } finally {
    bucket.close();
  }
});
