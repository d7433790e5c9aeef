// A real *123 call through the sandbox Asterisk ends up, converted to mp3, at a CRM webhook (signed) and
// in a mailbox (a real SMTP server on loopback).
import { waitFor } from '../support/sandbox';
import { runSipp } from '../../scripts/lib/sipp-caller';
import type { TestService } from '../support/service';
import type { SmtpSink, WebhookReceiver } from '../support/receivers';
import { startWithReceivers, type DeliveryFixture } from '../support/delivery-fixture';
import { decodedSeconds } from '../support/audio';

const SECRET = 'crm-shared-secret-for-tests-0001';
let svc: TestService;
let rx: WebhookReceiver;
let smtp: SmtpSink;
let fx: DeliveryFixture;

beforeAll(async () => {
  fx = await startWithReceivers(SECRET, 'agents@example.test', {}, { connected: true });
  ({ svc, rx, smtp } = fx);
}, 600_000);

afterAll(async () => {
  await fx?.stop();
});

test('a sandbox call is catalogued and delivered to the webhook and by e-mail', async () => {
  const r = await runSipp({ dial: '*1234175551234', talkMs: 6000, localPort: 5500 });
  expect(r).toMatchObject({ successful: 1, failed: 0 });
  const call = await waitFor('call ended', () => svc.ended[0], 20_000);
  const rec = await waitFor('catalogued', async () => (await svc.catalog.listRecordings({ dnis: '4175551234' }))[0], 40_000);
  expect(rec).toMatchObject({
    uniqueid: call.uniqueid,
    ani: '2125550100',
    dnis: '4175551234',
    source: 'ari',
    format: 'wav',
    cpaResult: 'LV',
  });
  // The call's linkedid (here the caller's own uniqueid: it started the call) ties the row to CDR/CEL.
  expect(rec.linkedid).toBe(call.uniqueid);
  expect(rec.sha256).toMatch(/^[0-9a-f]{64}$/);
  expect(rec.path).not.toMatch(/^\//);
  await waitFor('both delivered', async () => (await svc.catalog.deliveriesOf(rec.id)).every((d) => d.status === 'delivered'), 30_000);
  expect((await svc.catalog.deliveriesOf(rec.id)).map((d) => d.route).sort()).toEqual(['email', 'webhook']);

  const hit = rx.delivered.get(`${rec.id}:webhook`)!;
  expect(hit.signatureValid).toBe(true);
  expect(hit.metadata).toMatchObject({
    id: rec.id,
    uniqueid: call.uniqueid,
    linkedid: call.uniqueid,
    ani: '2125550100',
    dnis: '4175551234',
    cpa: { result: 'LV' },
  });
  const seconds = rec.durationMs / 1000;
  expect(decodedSeconds(hit.audio, 'mp3')).toBeGreaterThan(seconds - 0.3);
  expect(decodedSeconds(hit.audio, 'mp3')).toBeLessThan(seconds + 0.3);

  const mail = await waitFor('mail', () => smtp.messages.find((m) => m.subject?.includes('4175551234')), 10_000);
  expect(mail.subject).toBe('Recorded Message - ANI:2125550100, DNIS:4175551234');
  expect(mail.text).toContain('Call progress (CPA): LV');
  expect(mail.attachments).toHaveLength(1);
  expect(mail.attachments[0]!.contentType).toBe('audio/mpeg');
  expect(Math.abs(decodedSeconds(mail.attachments[0]!.content, 'mp3') - seconds)).toBeLessThan(0.3);
}, 90_000);
