// A call picks a named CPA configuration with Stasis(dialplan-companion,NUMBER,cpa=NAME): the sandbox's *129
// hook names one whose break_events stop the analysis at the decision, *128 names one that does not exist.
import { ensureSandbox, expectNoLeftovers, waitFor } from '../support/sandbox';
import { startConnectedService, type TestService } from '../support/service';
import { runSipp } from '../../scripts/lib/sipp-caller';

let svc: TestService;

beforeAll(async () => {
  const chroot = await ensureSandbox();
  svc = await startConnectedService(chroot, { DC_CPA_CONFIGS: JSON.stringify({ 'break-at-decision': { break_events: ['LV', 'AM'] } }) });
}, 600_000);

afterAll(async () => {
  await svc?.stop();
});

test('default, named and unknown configuration on three live calls', async () => {
  const results = await Promise.all([
    runSipp({ dial: '*1234175551234', talkMs: 8000, localPort: 5800 }),
    runSipp({ dial: '*1294175551235', talkMs: 8000, localPort: 5820 }),
    runSipp({ dial: '*1284175551236', talkMs: 8000, localPort: 5840 }),
  ]);
  for (const r of results) expect(r).toMatchObject({ successful: 1, failed: 0 });
  await waitFor('3 calls ended', () => svc.ended.length === 3, 20_000);
  const codes = (dnis: string) => (svc.ended.find((s) => s.dnis === dnis)!.cpaEvents as { result: string }[]).map((e) => e.result);
  // Defaults: LV, then silence reports while the tap keeps listening.
  expect(codes('4175551234')[0]).toBe('LV');
  expect(codes('4175551234')).toContain('SL');
  // The named configuration stops the analysis at the decision.
  expect(codes('4175551235')).toEqual(['LV']);
  // An unknown name: the call is not refused; the defaults apply and the log says error 03.
  expect(codes('4175551236')[0]).toBe('LV');
  expect(codes('4175551236')).toContain('SL');
  expect(svc.logs.some((l) => l.cpaConfig === 'no-such-config' && String(l.msg).startsWith('error 03'))).toBe(true);
  await expectNoLeftovers();
}, 90_000);
