// Signed download links: the e-mail of a recording too large to attach, and link-mode webhooks.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../../src/media';
import { verifyDownload, signedDownloadUrl } from '../../src/recordings';
import { Signal } from '../../scripts/lib/signals';
import { waitFor } from '../support/sandbox';
import type { TestService } from '../support/service';
import type { SmtpSink, WebhookReceiver } from '../support/receivers';
import { startWithReceivers, type DeliveryFixture } from '../support/delivery-fixture';

const TOKEN = 'ivr-upload-token-links-0123456789';
const SECRET = 'crm-shared-secret-for-links-0003';
let svc: TestService;
let rx: WebhookReceiver;
let smtp: SmtpSink;
let fx: DeliveryFixture;
const dir = mkdtempSync(join(tmpdir(), 'dc-links-'));

beforeAll(async () => {
  fx = await startWithReceivers(SECRET, 'big@example.test', {
    DC_RECORDINGS_LOCAL_DIR: join(dir, 'rec'),
    DC_UPLOAD_TOKENS: TOKEN,
    DC_WEBHOOK_MODE: 'link',
    DC_MAX_ATTACHMENT_BYTES: '1000',
    DC_LINK_SECRET: 'link-secret-for-tests-0123456789',
  });
  ({ svc, rx, smtp } = fx);
}, 600_000);

afterAll(async () => {
  await fx?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('too large to attach: the e-mail and a link-mode webhook carry a signed link that serves the recording', async () => {
  const wav = encodeWav(new Signal().speech(3000).noise(-50).pcm(), 8000);
  const fd = new FormData();
  fd.set('ANI', '3055550199');
  fd.set('DNIS', '8005551001');
  fd.set('MSG', new Blob([new Uint8Array(wav)], { type: 'audio/wav' }), 'm.wav');
  const up = await fetch(`${svc.portalUrl}/upload`, { method: 'POST', body: fd, headers: { authorization: `Bearer ${TOKEN}` } });
  expect(up.status).toBe(200);
  const { id } = (await up.json()) as { id: string };
  await waitFor('delivered', async () => (await svc.catalog.deliveriesOf(id)).every((d) => d.status === 'delivered'), 30_000);

  const mail = await waitFor('mail', () => smtp.messages.find((m) => m.subject?.includes('8005551001')), 10_000);
  expect(mail.attachments).toHaveLength(0);
  const mailLink = /too large to attach\. Download it here: (\S+)/.exec(mail.text ?? '')?.[1];
  expect(mailLink).toMatch(new RegExp(`/recordings/${id}/download\\?expires=\\d+&sig=`));

  const hit = rx.delivered.get(`${id}:webhook`)!;
  expect(hit.signatureValid).toBe(true);
  expect(hit.audio.length).toBe(0);
  const hookLink = (hit.metadata.audio as { url: string }).url;

  // The links name the portal's public URL; here the portal listens on an ephemeral port.
  for (const l of [mailLink!, hookLink]) {
    const u = new URL(l);
    const res = await fetch(`${svc.portalUrl}${u.pathname}${u.search}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    const body = Buffer.from(await res.arrayBuffer());
    expect(createHash('sha256').update(body).digest('hex')).toBe((await svc.catalog.getRecording(id))!.sha256);
    // Change the signature's first character to a different one (a fixed 'A' is a no-op 1 time in 64).
    const tamperedSearch = u.search.replace(/sig=(.)/, (_m, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`);
    expect(tamperedSearch).not.toBe(u.search);
    const tampered = await fetch(`${svc.portalUrl}${u.pathname}${tamperedSearch}`);
    expect(tampered.status).toBe(403);
  }
  const other = await fetch(`${svc.portalUrl}/recordings/rec_other/download${new URL(hookLink).search}`);
  expect(other.status).toBe(403);
}, 60_000);

test('links expire', () => {
  const url = new URL(signedDownloadUrl('http://x', 's'.repeat(20), 'rec_1', 1000, 0));
  expect(verifyDownload('s'.repeat(20), 'rec_1', url.searchParams.get('expires')!, url.searchParams.get('sig')!, 500)).toBe('ok');
  expect(verifyDownload('s'.repeat(20), 'rec_1', url.searchParams.get('expires')!, url.searchParams.get('sig')!, 5000)).toBe('expired');
  expect(verifyDownload('t'.repeat(20), 'rec_1', url.searchParams.get('expires')!, url.searchParams.get('sig')!, 500)).toBe('bad');
});
