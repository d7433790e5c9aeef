// Live sandbox calls analysed on a CPA server (cpa.serviceUrl -> `cpa serve` on loopback) instead of in
// the companion: the same results as in-process (LV; AM with the beep within 100 ms of the far end's own
// beep end); and with the server unreachable, the call falls back to the in-process engine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpaServer } from '../../src/cpa-server/server';
import { cpaConfigStore } from '../../src/cpa-server/start';
import { loadConfig } from '../../src/config';
import { Catalog } from '../../src/recordings';
import { createLogger } from '../../src/log';
import { ariGet, ensureSandbox, expectNoLeftovers, waitFor } from '../support/sandbox';
import { runSipp } from '../../scripts/lib/sipp-caller';
import { startConnectedService, type TestService } from '../support/service';

let chroot: string;
let dir: string;
let catalog: Catalog;
let server: CpaServer;
let url: string;
let svc: TestService | undefined;

beforeAll(async () => {
  chroot = await ensureSandbox();
  dir = mkdtempSync(join(tmpdir(), 'dc-cpa-service-'));
  catalog = await Catalog.open(join(dir, 'cpa-server.sqlite'));
  server = new CpaServer({
    host: '127.0.0.1',
    port: 0,
    log: createLogger('silent'),
    configs: cpaConfigStore(loadConfig({ env: {} }), catalog),
  });
  url = (await server.listen()).url;
}, 600_000);

afterEach(async () => {
  await svc?.stop();
  svc = undefined;
});

afterAll(async () => {
  await server.close();
  await catalog.close();
  rmSync(dir, { recursive: true, force: true });
});

const globalVar = async (name: string) => Number((await ariGet<{ value: string }>(`/asterisk/variable?variable=${name}`)).value);

test('a live person and a machine with a beep, analysed on the CPA server, exactly as in-process', async () => {
  svc = await startConnectedService(chroot, { DC_CPA_SERVICE_URL: url });
  await waitFor('default parameters saved on the server', async () => await catalog.cpaConfigs.get('companion/default'), 10_000);
  const requestsBefore = server.stats.requests;
  const [live, machine] = await Promise.all([
    runSipp({ dial: '*1234175551234', talkMs: 8000, localPort: 5840 }),
    runSipp({ dial: '*1234175552000', talkMs: 16000, localPort: 5860 }),
  ]);
  expect(live.successful + live.failed).toBe(1);
  expect(machine.successful + machine.failed).toBe(1);
  const lv = await waitFor('live call ended', () => svc!.ended.find((c) => c.dnis === '4175551234'), 20_000);
  const am = await waitFor('machine call ended', () => svc!.ended.find((c) => c.dnis === '4175552000'), 20_000);
  expect(lv.cpaResult).toBe('LV');
  expect(am.cpaResult).toBe('AM');
  const truthMs = ((await globalVar('FAKE_4175552000_BEEP_END')) - (await globalVar('FAKE_4175552000_ANSWER'))) * 1000;
  const bp = am.cpaEvents.find((e) => e.result === 'BP');
  expect(bp).toBeDefined();
  expect(Math.abs(bp!.at_ms - truthMs)).toBeLessThanOrEqual(100);
  // they really went through the server, and nobody fell back
  expect(server.stats.requests - requestsBefore).toBeGreaterThanOrEqual(2);
  expect(svc.logs.filter((l) => String(l.msg).startsWith('CPA service unavailable'))).toEqual([]);
  await expectNoLeftovers();
}, 120_000);

test('the CPA server unreachable: the call is analysed in-process, and the log says so', async () => {
  svc = await startConnectedService(chroot, { DC_CPA_SERVICE_URL: 'ws://127.0.0.1:1' });
  const r = await runSipp({ dial: '*1234175551234', talkMs: 8000, localPort: 5880 });
  expect(r.successful + r.failed).toBe(1);
  const lv = await waitFor('live call ended', () => svc!.ended.find((c) => c.dnis === '4175551234'), 20_000);
  expect(lv.cpaResult).toBe('LV');
  expect(svc.logs.find((l) => l.msg === 'CPA service unavailable for this call: analysing it in this process')).toMatchObject({
    uniqueid: lv.uniqueid,
  });
  await expectNoLeftovers();
}, 120_000);
