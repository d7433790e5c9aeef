// The connectivity monitor against real parts: the sandbox Asterisk (ARI, and SIP OPTIONS to its PJSIP port),
// a real webhook receiver, a real SMTP server and a plain TCP service, each taken down and brought back.
import { createServer, type Server } from 'node:net';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ensureSandbox, sandbox, waitFor, REPO } from '../support/sandbox';
import { startTestService, type TestService } from '../support/service';
import { SmtpSink, WebhookReceiver } from '../support/receivers';
import type { Outage } from '../../src/recordings';
import { pingProbe } from '../../src/monitor';

const CLI = join(REPO, 'dist/src/cli.js');
let chroot: string;
let svc: TestService;
let rx: WebhookReceiver;
let smtp: SmtpSink;
let tcp: Server;
let tcpPort = 0;
let env: Record<string, string>;
const dir = mkdtempSync(join(tmpdir(), 'dc-monitor-'));

const listenTcp = (port = 0) =>
  new Promise<Server>((resolve) => {
    const s = createServer((c) => c.end());
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
const closeTcp = (s: Server) => new Promise<void>((r) => s.close(() => r()));
const status = (name: string) => svc.monitor!.status().find((t) => t.name === name)!;
const outagesOf = async (target: string): Promise<Outage[]> => await svc.catalog.outages.list({ target });

beforeAll(async () => {
  chroot = await ensureSandbox();
  rx = new WebhookReceiver('crm-shared-secret-for-tests-0003');
  await rx.listen();
  smtp = new SmtpSink();
  await smtp.listen();
  tcp = await listenTcp();
  tcpPort = (tcp.address() as { port: number }).port;
  env = {
    DC_WEBHOOK_URL: rx.url,
    DC_WEBHOOK_SECRET: 'crm-shared-secret-for-tests-0003',
    DC_SMTP_PORT: String(smtp.port),
    DC_SMTP_SECURITY: 'none',
    DC_MONITOR_ALERT_TO: 'noc@example.test',
    DC_MONITOR_INTERVAL_MS: '200',
    DC_MONITOR_TIMEOUT_MS: '500',
    DC_MONITOR_FAILURES: '2',
    // The sandbox's own SIP port answers OPTIONS; nothing listens on 5999.
    DC_MONITOR_SIP: '127.0.0.1:5060,127.0.0.1:5999',
    DC_MONITOR_TCP: `127.0.0.1:${tcpPort}`,
    DC_MONITOR_PING: '127.0.0.1',
    DC_CATALOG_FILE: join(dir, 'catalog.sqlite'),
  };
  svc = await startTestService(chroot, env);
}, 600_000);

afterAll(async () => {
  await svc?.stop();
  await rx?.close();
  await smtp?.close();
  if (tcp?.listening) await closeTcp(tcp);
  rmSync(dir, { recursive: true, force: true });
});

test('every target is checked (ICMP ping too): the live ones are up, the dead SIP port is an open outage', async () => {
  const names = svc.monitor!.status().map((t) => t.name);
  expect(names).toEqual([
    'ari 127.0.0.1:8088',
    `webhook 127.0.0.1:${rx.port}`,
    `smtp 127.0.0.1:${smtp.port}`,
    'sip 127.0.0.1:5060',
    'sip 127.0.0.1:5999',
    'ping 127.0.0.1',
    `tcp 127.0.0.1:${tcpPort}`,
  ]);
  await waitFor('first checks', () => svc.monitor!.status().every((t) => t.up !== undefined), 10_000);
  expect(
    svc
      .monitor!.status()
      .filter((t) => !t.up)
      .map((t) => t.name),
  ).toEqual(['sip 127.0.0.1:5999']);
  const dead = status('sip 127.0.0.1:5999');
  expect(dead.outage).toMatchObject({ kind: 'sip', endedAt: null });
  expect(dead.lastError).toMatch(/ECONNREFUSED|no answer/);
}, 30_000);

test('webhook host and a TCP service go down for ~2 s: one outage each, with its duration, and a restore alert by mail', async () => {
  const hookName = `webhook 127.0.0.1:${rx.port}`;
  const tcpName = `tcp 127.0.0.1:${tcpPort}`;
  const port = rx.port;
  await rx.close();
  await closeTcp(tcp);
  const down = Date.now();
  await waitFor('both down', () => !status(hookName).up && !status(tcpName).up, 10_000);
  await new Promise((r) => setTimeout(r, 1500));
  await rx.listen(port);
  tcp = await listenTcp(tcpPort);
  const back = Date.now();
  await waitFor('both restored', () => status(hookName).up && status(tcpName).up, 10_000);
  for (const name of [hookName, tcpName]) {
    const list = await outagesOf(name);
    expect(list).toHaveLength(1);
    const o = list[0]!;
    expect(o.endedAt).not.toBeNull();
    // From the first failed check to the first good one: the real downtime within about two check intervals.
    expect(o.durationMs!).toBeGreaterThan(back - down - 800);
    expect(o.durationMs!).toBeLessThan(back - down + 1500);
  }
  const mail = await waitFor(
    'restore alert',
    () => smtp.messages.find((m) => m.subject?.startsWith('Restored') && m.text?.includes(tcpName)),
    10_000,
  );
  expect(mail.to && JSON.stringify(mail.to)).toContain('noc@example.test');
  expect(mail.text).toContain(hookName);
  expect(mail.text).toMatch(/down from .* to .*: \d+ s/);
  await waitFor('alerted', async () => (await outagesOf(tcpName)).every((o) => o.alertedAt !== null), 5000);
}, 40_000);

test('SMTP itself goes down: its restore alert is sent once it is back', async () => {
  const name = `smtp 127.0.0.1:${smtp.port}`;
  const port = smtp.port;
  await smtp.close();
  await waitFor('smtp down', () => status(name).up === false, 10_000);
  smtp = new SmtpSink();
  await smtp.listen(port);
  await waitFor('smtp restored', () => status(name).up, 10_000);
  const mail = await waitFor('alert about smtp', () => smtp.messages.find((m) => m.subject?.includes(name)), 10_000);
  expect(mail.subject).toMatch(/^Restored: smtp 127\.0\.0\.1:\d+ was down for \d+ s$/);
}, 40_000);

test('Asterisk restarts: the ARI outage is logged, closed and mailed; an outage open across a service restart stays one outage', async () => {
  await sandbox('restart');
  await waitFor('ARI outage closed', async () => (await outagesOf('ari 127.0.0.1:8088')).find((o) => o.endedAt), 60_000);
  const ari = (await outagesOf('ari 127.0.0.1:8088'))[0]!;
  expect(ari.durationMs!).toBeGreaterThan(0);
  // Refused while Asterisk is down; 404 while it starts (HTTP up, ARI not loaded yet): both are ARI unavailable.
  expect(ari.error).toMatch(/ECONNREFUSED|no answer|HTTP (404|5\d\d)/);
  await waitFor('ari alert', () => smtp.messages.find((m) => m.text?.includes('ari 127.0.0.1:8088')), 15_000);

  const open = status('sip 127.0.0.1:5999').outage!;
  await svc.stop();
  svc = await startTestService(chroot, env);
  await waitFor('first checks after restart', () => svc.monitor!.status().every((t) => t.up !== undefined), 10_000);
  const again = status('sip 127.0.0.1:5999').outage!;
  expect(again).toMatchObject({ id: open.id, startedAt: open.startedAt, endedAt: null });

  // The CLI shows the log.
  const r = spawnSync('node', [CLI, 'outages', '--json'], {
    env: { ...process.env, DC_CATALOG_FILE: env.DC_CATALOG_FILE },
    encoding: 'utf8',
  });
  expect(r.status).toBe(0);
  const rows = JSON.parse(r.stdout) as Outage[];
  expect(rows.map((o) => o.target)).toEqual(
    expect.arrayContaining(['ari 127.0.0.1:8088', `tcp 127.0.0.1:${tcpPort}`, 'sip 127.0.0.1:5999']),
  );
}, 120_000);

test('a ping target without the ping command says what to install', async () => {
  await expect(pingProbe('127.0.0.1', '/nonexistent/ping')(500)).rejects.toThrow(
    /no '\/nonexistent\/ping' command \(install iputils-ping\)/,
  );
});
