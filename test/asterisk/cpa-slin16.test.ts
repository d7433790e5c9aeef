// The tap in slin16 (16 kHz, big-endian on the wire) instead of ulaw: same answers.
import { ariGet, ensureSandbox, expectNoLeftovers, waitFor } from '../support/sandbox';
import { runSipp } from '../../scripts/lib/sipp-caller';
import { startConnectedService, type TestService } from '../support/service';

let svc: TestService;

beforeAll(async () => {
  const chroot = await ensureSandbox();
  svc = await startConnectedService(chroot, { DC_RTP_CODEC: 'slin16' });
}, 600_000);

afterAll(async () => {
  await svc?.stop();
});

test('slin16 tap: a machine is AM and its beep end is found within 100 ms', async () => {
  const r = await runSipp({ dial: '*1234175552000', talkMs: 14_500, localPort: 5600 });
  expect(r.successful + r.failed).toBe(1);
  const call = await waitFor('call ended', () => svc.ended[0], 30_000);
  expect(call.cpaResult).toBe('AM');
  const v = async (n: string) => Number((await ariGet<{ value: string }>(`/asterisk/variable?variable=${n}`)).value);
  const truthMs = ((await v('FAKE_4175552000_BEEP_END')) - (await v('FAKE_4175552000_ANSWER'))) * 1000;
  const bp = call.cpaEvents.find((e) => e.result === 'BP');
  expect(Math.abs(bp!.at_ms - truthMs)).toBeLessThanOrEqual(100);
  await expectNoLeftovers();
}, 60_000);
