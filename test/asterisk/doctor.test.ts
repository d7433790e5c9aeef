// doctor against the sandbox Asterisk: what an admin's first install gets wrong is named, and exits 1.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureSandbox, sandbox } from '../support/sandbox';

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

test('the snippet is read back through AMI: an AGI port or a dial context that does not match is named, exit 1', async () => {
  const g = JSON.parse(doctor({}).stdout) as Report;
  expect(g.checks.filter((c) => c.name.startsWith('dialplan'))).toEqual([
    { name: 'dialplan *123', ok: true, detail: 'enters Stasis(dialplan-companion)' },
    { name: 'dialplan *124', ok: true, detail: 'hands recordings to agi://127.0.0.1:4573' },
    { name: 'dialplan *124 route', ok: true, detail: 'dials through from-internal' },
  ]);
  const port = doctor({ DC_AGI_PORT: '4600', DC_ARI_APP: 'other-app' });
  expect(port.status).toBe(1);
  const p = JSON.parse(port.stdout) as Report;
  expect(p.checks.find((c) => c.name === 'dialplan *124')).toMatchObject({
    ok: false,
    detail: expect.stringContaining('listens on 127.0.0.1:4600'),
  });
  expect(p.checks.find((c) => c.name === 'dialplan *123')).toMatchObject({ ok: false, detail: expect.stringContaining('"other-app"') });
  // A global variable wins over the snippet's default, as its comment says; plain Asterisk has no from-internal.
  await sandbox('cli', 'dialplan set global DC_DIAL_CONTEXT no-such-context');
  try {
    const ctx = doctor({});
    expect(ctx.status).toBe(1);
    expect((JSON.parse(ctx.stdout) as Report).checks.find((c) => c.name === 'dialplan *124 route')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('"no-such-context", a context this Asterisk does not have'),
    });
  } finally {
    // Asterisk cannot unset a global; the snippet's own default is what the other tests dial through.
    await sandbox('cli', 'dialplan set global DC_DIAL_CONTEXT from-internal');
  }
});
