// Foundation, end to end on real parts: sipp -> sandbox Asterisk (Debian's asterisk in a sid chroot) ->
// *123 dialplan snippet (MixMonitor + Stasis) -> our Stasis app -> fake PSTN far end.
import { readFileSync } from 'node:fs';
import { parseWav } from '../../src/media';
import { waitForClosedWav } from '../../src/recordings';
import { expectNoLeftovers, ensureSandbox, sandbox, waitFor } from '../support/sandbox';
import { runSipp } from '../../scripts/lib/sipp-caller';
import { startConnectedService, startTestService, type TestService } from '../support/service';
import { peakOverFloorDb } from '../support/audio';

let chroot: string;
let svc: TestService | undefined;

beforeAll(async () => {
  chroot = await ensureSandbox();
}, 600_000);

afterEach(async () => {
  await svc?.stop();
  svc = undefined;
});

async function checkRecording(file: string | undefined, talkMs: number): Promise<void> {
  expect(file).toMatch(/^\/var\/spool\/asterisk\/monitor\/\d{4}\/\d{2}\/\d{2}\/\d{8}-\d{6}-2125550100-4175551234-[\d.]+\.wav$/);
  const local = svc!.localRecording(file!);
  await waitForClosedWav(local, 20_000);
  const wav = parseWav(readFileSync(local));
  expect(wav.truncated).toBe(false);
  const seconds = wav.samples.length / wav.sampleRate;
  expect(seconds).toBeGreaterThan(talkMs / 1000 - 1);
  // The far end said "hello" twice: speech must stand well above the line's floor.
  expect(peakOverFloorDb(wav.samples, wav.sampleRate)).toBeGreaterThan(20);
}

test('a *123 call is answered, dialled, bridged, recorded and cleaned up', async () => {
  svc = await startConnectedService(chroot);
  const talkMs = 6000;
  const r = await runSipp({ dial: '*1234175551234', talkMs });
  expect(r).toMatchObject({ successful: 1, failed: 0 });
  const call = await waitFor('call-ended', () => svc!.ended[0], 10_000);
  expect(call).toMatchObject({ ani: '2125550100', dnis: '4175551234', cause: 'caller hung up' });
  expect(call.answeredAt).toBeDefined();
  await checkRecording(call.recordingFile, talkMs);
  await expectNoLeftovers();
  // Every line about the call carries its uniqueid.
  const callLines = svc.logs.filter((l) => l.dnis === '4175551234');
  expect(callLines.length).toBeGreaterThanOrEqual(3);
  expect(callLines.every((l) => l.uniqueid === call.uniqueid)).toBe(true);
});

test('20 concurrent calls all complete, each recorded, 0 leaked channels', async () => {
  svc = await startConnectedService(chroot);
  const talkMs = 5000;
  const r = await runSipp({ dial: '*1234175551234', talkMs, calls: 20, concurrent: 20, rate: 20, localPort: 5072 });
  expect(r).toMatchObject({ successful: 20, failed: 0 });
  await waitFor('20 calls ended', () => svc!.ended.length === 20, 15_000);
  expect(new Set(svc.ended.map((c) => c.uniqueid)).size).toBe(20);
  expect(svc.ended.every((c) => c.answeredAt && c.cause === 'caller hung up')).toBe(true);
  for (const c of svc.ended) await checkRecording(c.recordingFile, talkMs);
  await expectNoLeftovers();
});

test('a busy far end hangs up the caller with cause busy and leaves nothing behind', async () => {
  svc = await startConnectedService(chroot);
  const r = await runSipp({ dial: '*1234175555000', talkMs: 5000 });
  // Asterisk ends the call for us: the caller sees the BYE (or a busy final response), never a hang.
  expect(r.successful + r.failed).toBe(1);
  const call = await waitFor('call-ended', () => svc!.ended[0], 10_000);
  expect(call.cause).toMatch(/^dial failed: .*busy/i);
  expect(call.answeredAt).toBeUndefined();
  await expectNoLeftovers();
  // The recording of a call that never connected is catalogued as such at once: no retries, no errors.
  const rec = await waitFor(
    'the busy call catalogued',
    async () => (await svc!.catalog.listRecordings({})).find((r) => r.uniqueid === call.uniqueid),
    10_000,
  );
  expect(rec.state === 'no_audio' || rec.durationMs > 0).toBe(true);
  expect(await svc.catalog.openRecordings()).toEqual([]);
  expect(svc.logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
});

test('the caller hanging up just as the far end answers, 50 times: no channel or bridge is left', async () => {
  svc = await startConnectedService(chroot);
  // The fake person answers ~1 s after the dial; a BYE at 1.0-1.1 s lands on either side of the answer.
  const r = await runSipp({ dial: '*1234175551234', talkMs: 1030, calls: 50, concurrent: 10, rate: 10, localPort: 5074 });
  expect(r.successful + r.failed).toBe(50);
  await waitFor('50 calls ended', () => svc!.ended.length === 50, 20_000);
  expect(svc.ended.filter((c) => c.answeredAt).length).toBeGreaterThan(0); // some did reach the answer
  await expectNoLeftovers();
});

test('the caller hanging up while the far end still rings leaves nothing behind', async () => {
  svc = await startConnectedService(chroot);
  const r = await runSipp({ dial: '*1234175556000', talkMs: 1500 });
  expect(r).toMatchObject({ successful: 1, failed: 0 });
  const call = await waitFor('call-ended', () => svc!.ended[0], 10_000);
  expect(call).toMatchObject({ cause: 'caller hung up', answeredAt: undefined });
  await expectNoLeftovers();
});

test('ARI down at start: the app logs, retries, and serves the call once Asterisk is up', async () => {
  await sandbox('stop');
  try {
    svc = await startTestService(chroot);
    await waitFor('a retry logged', () => svc!.logs.filter((l) => l.msg === 'ARI unavailable, retrying').length >= 2, 10_000);
    expect(svc.ari.connected).toBe(false);
  } finally {
    await sandbox('start');
  }
  await waitFor('ARI connection', () => svc!.ari.connected, 20_000);
  const r = await runSipp({ dial: '*1234175551234', talkMs: 3000 });
  expect(r).toMatchObject({ successful: 1, failed: 0 });
  await waitFor('call-ended', () => svc!.ended[0], 10_000);
  await expectNoLeftovers();
});
