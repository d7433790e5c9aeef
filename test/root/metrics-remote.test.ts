// /metrics scraped from a real non-loopback address: a network namespace of our own joined to the host by a
// veth pair (10.213.0.1 here, 10.213.0.2 there), the portal listening on the host's end. From there, without
// the token: 401; with it: 200; a wrong one: 401. Nothing leaves the machine.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../support/sandbox';

const CLI = join(__dirname, '..', '..', 'dist', 'src', 'cli.js');
const NS = `dc-metrics-${process.pid}`;
const [HOST_IF, NS_IF] = [`dcm${process.pid % 10000}a`, `dcm${process.pid % 10000}b`];
const [HOST_IP, NS_IP] = ['10.213.0.1', '10.213.0.2'];
const TOKEN = 'metrics-token-for-the-remote-test';
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
let svc: ChildProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), 'dc-metrics-remote-'));
let port = 0;

beforeAll(async () => {
  ip('netns', 'add', NS);
  ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF);
  ip('link', 'set', NS_IF, 'netns', NS);
  ip('addr', 'add', `${HOST_IP}/30`, 'dev', HOST_IF);
  ip('link', 'set', HOST_IF, 'up');
  ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${NS_IP}/30`, 'dev', NS_IF);
  ip('netns', 'exec', NS, 'ip', 'link', 'set', NS_IF, 'up');
  ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
  // A port free on the veth address, as the OS hands it out (the sandbox holds ranges of fixed ones).
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, HOST_IP, r));
  port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  let log = '';
  svc = spawn('node', [CLI, 'serve'], {
    env: {
      ...process.env,
      DC_ARI_URL: 'http://127.0.0.1:1',
      DC_MONITOR_ENABLED: 'false',
      DC_AGI_ENABLED: 'false',
      DC_CPA_ENABLED: 'false',
      DC_PORTAL_HOST: HOST_IP,
      DC_PORTAL_PORT: String(port),
      DC_PUBLIC_URL: `http://${HOST_IP}:${port}`,
      DC_METRICS_TOKEN: TOKEN,
      DC_CATALOG_FILE: join(dir, 'catalog.sqlite'),
      DC_RECORDINGS_LOCAL_DIR: dir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  svc.stdout!.on('data', (b: Buffer) => (log += b.toString()));
  svc.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  await waitFor('the portal on the veth address', () => curl([]).status === 200 || curl([]).status === 401, 15_000).catch((e: Error) => {
    throw new Error(`${e.message}\n${log}`);
  });
}, 30_000);

afterAll(async () => {
  if (svc?.exitCode === null) {
    svc.kill('SIGINT');
    await waitFor('serve to stop', () => svc!.exitCode !== null, 15_000).catch(() => svc!.kill('SIGKILL'));
  }
  try {
    ip('link', 'del', HOST_IF);
  } catch {
    // gone with the namespace
  }
  ip('netns', 'del', NS);
  rmSync(dir, { recursive: true, force: true });
});

/** curl from inside the namespace: the scrape comes from 10.213.0.2, as from another host. */
function curl(headers: string[]): { status: number; body: string } {
  const out = execFileSync(
    'ip',
    [
      'netns',
      'exec',
      NS,
      'curl',
      '-s',
      '--max-time',
      '3',
      '-w',
      '\n%{http_code}',
      ...headers.flatMap((h) => ['-H', h]),
      `http://${HOST_IP}:${port}/metrics`,
    ],
    { encoding: 'utf8' },
  );
  const i = out.lastIndexOf('\n');
  return { status: Number(out.slice(i + 1)), body: out.slice(0, i) };
}

test('from another address: 401 without the token or with a wrong one, 200 with it', () => {
  const none = curl([]);
  expect(none.status).toBe(401);
  expect(none.body).not.toContain('dialplan_companion_');
  expect(curl(['Authorization: Bearer not-the-token']).status).toBe(401);
  const ok = curl([`Authorization: Bearer ${TOKEN}`]);
  expect(ok.status).toBe(200);
  expect(ok.body).toContain('# TYPE dialplan_companion_calls_total counter');
});
