// The admin's path, as the README writes it: on a copy of the sandbox chroot put back to Debian's stock
// Asterisk 22 configuration (other ports), scripts/install.sh, the README's Asterisk block word for word, doctor,
// the service started the way its systemd unit starts it, then a *123 and a *124 call, both catalogued and
// delivered to a webhook.
import { type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { ensureSandbox, REPO, waitFor } from '../support/sandbox';
import { startStockPbx, STOCK_PORTS, type StockPbx } from '../support/stock-pbx';
import { WebhookReceiver } from '../support/receivers';
import { runSipp } from '../../scripts/lib/sipp-caller';

const run = promisify(execFile);
const SECRET = 'install-path-webhook-secret';

/** The fenced sh block the README marks with <!-- install-path: NAME -->. */
function readmeBlock(name: string): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const m = new RegExp(`<!-- install-path: ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\\n\`\`\``).exec(readme);
  if (!m) throw new Error(`README has no install-path block '${name}'`);
  return m[1]!;
}

/** The unit's User= and ExecStart=, so the service runs here as systemd would run it. */
function unit(): { user: string; execStart: string; envFile: string } {
  const u = readFileSync(join(REPO, 'packaging', 'dialplan-companion.service'), 'utf8');
  const get = (k: string) => new RegExp(`^${k}=(.+)$`, 'm').exec(u)![1]!;
  return { user: get('User'), execStart: get('ExecStart'), envFile: get('EnvironmentFile') };
}

let pbx: StockPbx | undefined;
let service: ChildProcess | undefined;
const hook = new WebhookReceiver(SECRET);

beforeAll(async () => {
  const sandboxRoot = await ensureSandbox();
  await hook.listen();
  pbx = await startStockPbx(sandboxRoot);
}, 300_000);

afterAll(async () => {
  if (service?.exitCode === null) {
    process.kill(-service.pid!, 'SIGINT');
    await waitFor('the installed service to stop', () => service!.exitCode !== null, 20_000).catch(() =>
      process.kill(-service!.pid!, 'SIGKILL'),
    );
  }
  await pbx?.close();
  await hook.close();
}, 60_000);

test('install.sh, the README blocks, doctor, then a *123 and a *124 call through stock Debian Asterisk', async () => {
  const p = pbx!;
  writeFileSync(join(p.root, 'tmp', 'webhook-secret'), SECRET);
  // 1. the README's install line, into the copy (--root), with the test's ports and receiver
  const install = readmeBlock('install');
  expect(install).toBe('bash scripts/install.sh --no-doctor');
  await run(
    'bash',
    [
      join(REPO, 'scripts', 'install.sh'),
      '--no-doctor',
      ...['--root', p.root],
      ...['--set', `DC_ARI_URL=http://127.0.0.1:${STOCK_PORTS.ari}`, '--set', `DC_AMI_PORT=${STOCK_PORTS.ami}`],
      ...['--set', `DC_WEBHOOK_URL=${hook.url}`, '--set', 'DC_WEBHOOK_SECRET_FILE=/etc/dialplan-companion/secrets/webhook-secret'],
      ...['--secret', `webhook-secret=${join(p.root, 'tmp', 'webhook-secret')}`],
    ],
    { timeout: 120_000 },
  );
  // doctor before the Asterisk block: it names what is missing and fails
  const before = await p.sh('dialplan-companion doctor').catch((e: { code: number; stdout: string }) => e);
  expect((before as { code?: number }).code).toBe(1);
  expect((before as { stdout: string }).stdout).toMatch(
    /FAIL {2}config:[\s\S]*DC_ARI_PASSWORD_FILE: cannot read \/etc\/dialplan-companion\/secrets\/ari-password/,
  );

  // 2. the README's Asterisk block, word for word, inside the PBX
  await p.sh(readmeBlock('asterisk'));

  // 3. doctor, as the README says, passes
  const doctor = await p.sh(readmeBlock('check')).catch((e: { stdout: string; stderr: string }) => {
    throw new Error(`doctor failed:\n${e.stdout}${e.stderr}`);
  });
  for (const line of [
    'ARI: http://127.0.0.1:8188',
    'AMI: 127.0.0.1:5138',
    'dialplan *123',
    'dialplan *124: hands recordings to agi://127.0.0.1:4573',
  ])
    expect(doctor.stdout).toContain(` ok   ${line}`);
  expect(doctor.stdout).not.toContain('FAIL');

  // 4. the service as its unit runs it: its user (in group asterisk), its env file, its ExecStart
  const u = unit();
  const log = '/var/log/dialplan-companion.log';
  service = p.spawn(`runuser -u ${u.user} -- /bin/sh -c 'set -a; . ${u.envFile}; set +a; exec ${u.execStart}'`, log);
  const logText = () => readFileSync(join(p.root, log), 'utf8');
  await waitFor('the installed service to connect to ARI', () => logText().includes('ARI WebSocket connected'), 20_000);

  // 5. the calls: *123 (Stasis, CPA) and *124 (the FastAGI door), from a phone of the stock PBX
  const remote = `127.0.0.1:${STOCK_PORTS.sip}`;
  const [a, b] = await Promise.all([
    runSipp({ dial: '*1234175551234', talkMs: 5000, remote, localPort: 5171 }),
    runSipp({ dial: '*1244175551234', talkMs: 4000, remote, localPort: 5172 }),
  ]);
  expect([a.successful, b.successful]).toEqual([1, 1]);
  const delivered = await waitFor(
    'both recordings at the webhook',
    () => (hook.delivered.size >= 2 ? [...hook.delivered.values()] : undefined),
    60_000,
  ).catch((e: Error) => {
    throw new Error(`${e.message}\n${logText().slice(-4000)}`);
  });
  expect(delivered.map((h) => h.signatureValid)).toEqual([true, true]);
  const bySource = Object.fromEntries(delivered.map((h) => [String(h.metadata.source), h.metadata]));
  expect(Object.keys(bySource).sort()).toEqual(['agi', 'ari']);
  expect(bySource.ari).toMatchObject({ ani: '2125550100', dnis: '4175551234', cpa: { result: 'LV' } });
  expect(bySource.agi).toMatchObject({ ani: '2125550100', dnis: '4175551234' });
  // the recordings are the stock PBX's, catalogued by the installed service under its own user
  const list = await p.sh('dialplan-companion recordings list --json');
  expect((JSON.parse(list.stdout) as unknown[]).length).toBe(2);
  expect(logText()).not.toMatch(/"level":50/);
}, 300_000);
