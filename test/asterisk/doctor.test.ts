// doctor against the sandbox Asterisk: what an admin's first install gets wrong is named, and exits 1.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureSandbox } from '../support/sandbox';

const CLI = join(__dirname, '..', '..', 'dist', 'src', 'cli.js');
const doctor = (env: Record<string, string>) =>
  spawnSync('node', [CLI, 'doctor', '--json'], {
    env: { ...process.env, DC_CATALOG_FILE: '/tmp/dc-doctor-test/catalog.sqlite', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
type Report = { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };

beforeAll(async () => {
  await ensureSandbox();
}, 600_000);

test('a dial endpoint that Asterisk does not have, a wrong AMI secret and a wrong ARI user are each named, exit 1', () => {
  const good = doctor({ DC_DIAL_ENDPOINT: 'PJSIP/${NUMBER}@sipp' });
  const g = JSON.parse(good.stdout) as Report;
  expect(g.checks.find((c) => c.name === 'dial endpoint')).toMatchObject({
    ok: true,
    detail: expect.stringContaining('PJSIP/sipp exists'),
  });
  expect(g.checks.find((c) => c.name === 'AMI')).toMatchObject({ ok: true });
  const bad = doctor({ DC_DIAL_ENDPOINT: 'PJSIP/${NUMBER}@nosuchtrunk', DC_AMI_SECRET: 'wrong-secret', DC_ARI_USER: 'nobody' });
  expect(bad.status).toBe(1);
  const b = JSON.parse(bad.stdout) as Report;
  expect(b.checks.find((c) => c.name === 'ARI')).toMatchObject({
    ok: false,
    detail: expect.stringContaining('user "nobody" refused (401)'),
  });
  expect(b.checks.find((c) => c.name === 'AMI')).toMatchObject({ ok: false, detail: expect.stringContaining('as "dialplan-companion"') });
  const ok = doctor({ DC_DIAL_ENDPOINT: 'PJSIP/${NUMBER}@nosuchtrunk', DC_AMI_SECRET: 'wrong-secret' });
  const o = JSON.parse(ok.stdout) as Report;
  expect(o.checks.find((c) => c.name === 'dial endpoint')).toMatchObject({
    ok: false,
    detail: expect.stringContaining('Asterisk has no endpoint PJSIP/nosuchtrunk'),
  });
  expect(ok.status).toBe(1);
});
