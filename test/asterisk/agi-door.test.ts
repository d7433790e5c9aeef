// The FastAGI door: a dialplan without Stasis (*124: MixMonitor, Dial through from-internal, a hangup
// handler that runs AGI(agi://127.0.0.1:4573/recording-done)) gets its recordings catalogued and
// delivered, whichever side hangs up; garbage on the AGI port changes nothing.
import { connect } from 'node:net';
import { waitFor } from '../support/sandbox';
import { runSipp } from '../../scripts/lib/sipp-caller';
import { startWithReceivers, type DeliveryFixture } from '../support/delivery-fixture';
import { decodedSeconds } from '../support/audio';

const SECRET = 'crm-shared-secret-for-tests-0002';
let fx: DeliveryFixture;

beforeAll(async () => {
  // The sandbox dialplan names agi://127.0.0.1:4573, the default port.
  fx = await startWithReceivers(SECRET, 'agents@example.test', { DC_AGI_PORT: '4573' });
}, 600_000);

afterAll(async () => {
  await fx?.stop();
});

test('caller hangs up (live person) and callee hangs up (intercept): both recordings catalogued from AGI and delivered', async () => {
  const { svc, rx, smtp } = fx;
  const [live, sit] = await Promise.all([
    runSipp({ dial: '*1244175551234', talkMs: 5000, localPort: 5700, ani: '3125550111' }),
    runSipp({ dial: '*1244175554000', talkMs: 30_000, localPort: 5720, ani: '3125550122' }),
  ]);
  expect(live).toMatchObject({ successful: 1, failed: 0 });
  expect(sit).toMatchObject({ successful: 1, failed: 0 });

  const recLive = await waitFor(
    'live call catalogued',
    async () => (await svc.catalog.listRecordings({ dnis: '4175551234' })).find((r) => r.ani === '3125550111'),
    40_000,
  );
  const recSit = await waitFor(
    'intercept call catalogued',
    async () => (await svc.catalog.listRecordings({ dnis: '4175554000' })).find((r) => r.ani === '3125550122'),
    40_000,
  );
  for (const rec of [recLive, recSit]) {
    expect(rec).toMatchObject({ source: 'agi', format: 'wav', cpaResult: null });
    expect(rec.uniqueid).toMatch(/^\d+\.\d+$/);
    expect(rec.linkedid).toBe(rec.uniqueid); // the caller's channel started the call
    expect(rec.path).toContain(rec.uniqueid!);
  }
  // The caller talked 5 s after the answer (Dial sends no early media, so the file starts at the answer).
  expect(recLive.durationMs).toBeGreaterThan(4500);
  expect(recLive.durationMs).toBeLessThan(7000);
  expect(recLive.answeredAt).not.toBeNull();

  for (const rec of [recLive, recSit]) {
    await waitFor('delivered', async () => (await svc.catalog.deliveriesOf(rec.id)).every((d) => d.status === 'delivered'), 30_000);
    const hit = rx.delivered.get(`${rec.id}:webhook`)!;
    expect(hit.signatureValid).toBe(true);
    expect(hit.metadata).toMatchObject({ id: rec.id, uniqueid: rec.uniqueid, ani: rec.ani, dnis: rec.dnis, source: 'agi' });
    expect(Math.abs(decodedSeconds(hit.audio, 'mp3') - rec.durationMs / 1000)).toBeLessThan(0.3);
  }
  const mail = await waitFor('mail', () => smtp.messages.find((m) => m.subject?.includes('ANI:3125550111')), 10_000);
  expect(mail.subject).toBe('Recorded Message - ANI:3125550111, DNIS:4175551234');
  expect(svc.agi!.stats).toMatchObject({ sessions: 2, protocolErrors: 0, unknownScripts: 0, scriptErrors: 0 });
}, 120_000);

test('1,000 malformed AGI connections are dropped and counted; the door still serves the next call', async () => {
  const { svc } = fx;
  const before = { ...svc.agi!.stats };
  let seed = 4573;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const env = (script: string) =>
    `agi_network: yes\nagi_network_script: ${script}\nagi_request: agi://127.0.0.1:4573/${script}\nagi_channel: PJSIP/x-1\nagi_uniqueid: 1.${Math.floor(rand() * 1e6)}\n`;
  const payloads: (() => Buffer | string)[] = [
    () => Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 600) }, () => Math.floor(rand() * 256))), // random bytes, then close
    () => 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', // a web client
    () => `${env('recording-done')}`.slice(0, Math.floor(rand() * 120)), // cut off mid-environment
    () => `agi_network_script: ${'x'.repeat(10_000)}\n\n`, // an overlong line
    () => Array.from({ length: 300 }, (_, i) => `agi_arg_${i + 1}: a`).join('\n') + '\n\n', // too many lines
    () => '\n', // an empty environment
    () => `${env('../../etc/passwd')}\n`, // an unknown script, asking for a path
  ];
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const s = connect(4573, '127.0.0.1', () => {
        s.write(payloads[i % payloads.length]!());
        // A peer that answers nothing: scripts that got an environment are answered with 'HANGUP'-less silence
        // and close; the server must not wait forever either way.
        setTimeout(() => s.end(), 20);
      });
      s.on('data', () => s.write('511 Command Not Permitted on a dead channel or intercept routine\n'));
      s.on('error', () => resolve());
      s.on('close', () => resolve());
    });
  for (let i = 0; i < 1000; i += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => one(i + k)));
  await waitFor(
    'all 1000 accounted for',
    () => {
      const s = svc.agi!.stats;
      return (
        s.protocolErrors +
          s.unknownScripts +
          s.scriptErrors +
          s.sessions -
          (before.protocolErrors + before.unknownScripts + before.scriptErrors + before.sessions) >=
        1000
      );
    },
    30_000,
  );
  const s = svc.agi!.stats;
  expect(s.sessions).toBe(before.sessions); // none of them reached a script as a good session
  expect(s.unknownScripts - before.unknownScripts).toBeGreaterThanOrEqual(1000 / payloads.length - 1);
  expect((await svc.catalog.listRecordings({})).filter((r) => r.source === 'agi')).toHaveLength(2);

  const r = await runSipp({ dial: '*1244175551234', talkMs: 3000, localPort: 5740, ani: '3125550133' });
  expect(r).toMatchObject({ successful: 1, failed: 0 });
  await waitFor(
    'catalogued after the garbage',
    async () => (await svc.catalog.listRecordings({ dnis: '4175551234' })).find((x) => x.ani === '3125550133'),
    40_000,
  );
}, 120_000);
