// Partial recording: the caller's DTMF keys (SIP INFO from sipp) pause, resume and stop the call's
// MixMonitor through AMI (MixMonitorMute / StopMixMonitor) on the real sandbox Asterisk.
import { readFileSync } from 'node:fs';
import { parseWav } from '../../src/media';
import { waitForClosedWav } from '../../src/recordings';
import { expectNoLeftovers, ensureSandbox, waitFor } from '../support/sandbox';
import { runSipp } from '../../scripts/lib/sipp-caller';
import { startConnectedService, type TestService } from '../support/service';
import { windowRms } from '../support/audio';

let svc: TestService;

beforeAll(async () => {
  const chroot = await ensureSandbox();
  svc = await startConnectedService(chroot);
}, 600_000);

afterAll(async () => {
  await svc?.stop();
});

test('*1 pauses (silence in the file), *2 resumes, *3 stops the recording', async () => {
  // Times below are from the caller's answer (sipp's ACK; the recording starts there too). The far end
  // answers ~1 s later and its greeting runs from ~1.5 s to ~12.7 s: there is always sound to record.
  const r = await runSipp({
    dial: '*1234175552000',
    talkMs: 11_000,
    localPort: 5400,
    dtmf: [
      { atMs: 1500, digits: '*1' },
      { atMs: 5000, digits: '*2' },
      { atMs: 8000, digits: '*3' },
    ],
  });
  expect(r).toMatchObject({ successful: 1, failed: 0 });
  const call = await waitFor('call ended', () => svc.ended[0], 20_000);
  expect(call.recordingState).toBe('stopped');
  const file = svc.localRecording(call.recordingFile!);
  await waitForClosedWav(file, 20_000);
  const wav = parseWav(readFileSync(file));
  const rms = windowRms(wav.samples, wav.sampleRate, 100);
  const loudest = (fromMs: number, toMs: number) => Math.max(...rms.slice(Math.floor(fromMs / 100), Math.floor(toMs / 100)));
  // paused from ~2.1 s to ~5.6 s: nothing but silence in between
  expect(loudest(2600, 5000)).toBeLessThan(30);
  // before the pause and after the resume the greeting is there
  expect(loudest(1500, 2000)).toBeGreaterThan(300);
  expect(loudest(6000, 8000)).toBeGreaterThan(300);
  // stopped at ~8.6 s: the file ends there although the call went on to 11 s
  const seconds = wav.samples.length / wav.sampleRate;
  expect(seconds).toBeLessThan(9.5);
  expect(seconds).toBeGreaterThan(7.5);
  await expectNoLeftovers();
}, 60_000);
