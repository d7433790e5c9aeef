// A part that cannot start makes `serve` exit within seconds, non-zero, with the real reason: systemd
// restarts it or the admin reads why, instead of a process that stays up doing nothing.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestService } from '../support/service';

const CLI = join(__dirname, '..', '..', 'dist', 'src', 'cli.js');
let dir: string;
const mounts: string[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dc-startup-'));
});
afterEach(() => {
  for (const m of mounts.splice(0)) execFileSync('umount', [m]);
  rmSync(dir, { recursive: true, force: true });
});

function serve(env: Record<string, string>): Promise<{ code: number | null; ms: number; stderr: string }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const p = spawn('node', [CLI, 'serve'], {
      env: {
        ...process.env,
        DC_ARI_URL: 'http://127.0.0.1:1',
        DC_MONITOR_ENABLED: 'false',
        DC_PORTAL_PORT: '0',
        DC_AGI_PORT: '0',
        DC_LOG_LEVEL: 'fatal',
        DC_CATALOG_FILE: join(dir, 'ok', 'catalog.sqlite'),
        DC_RECORDINGS_LOCAL_DIR: dir,
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Never wait for a process that does not exit: that is the defect under test.
    const guard = setTimeout(() => p.kill('SIGKILL'), 10_000);
    p.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, ms: Date.now() - t0, stderr });
    });
  });
}

function tmpfs(path: string, opts: string): void {
  mkdirSync(path, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', path]);
  mounts.push(path);
}

test('the portal port in use: exit 1 within 5 s naming the portal and EADDRINUSE', async () => {
  const blocker: Server = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  try {
    const r = await serve({ DC_PORTAL_PORT: String(port) });
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(5000);
    expect(r.stderr).toContain(`cannot start: portal (portal.host/portal.port 127.0.0.1:${port})`);
    expect(r.stderr).toContain('EADDRINUSE');
  } finally {
    blocker.close();
  }
});

test('the AGI port in use: exit 1 naming the FastAGI server', async () => {
  const blocker: Server = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  try {
    const r = await serve({ DC_AGI_PORT: String(port) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot start: FastAGI server .*EADDRINUSE/);
  } finally {
    blocker.close();
  }
});

test('a read-only catalog directory: exit 1 within 5 s saying read-only (EROFS), not ENOENT', async () => {
  const ro = join(dir, 'ro');
  tmpfs(ro, 'ro,size=1m');
  const r = await serve({ DC_CATALOG_FILE: join(ro, 'catalog.sqlite') });
  expect(r.code).toBe(1);
  expect(r.ms).toBeLessThan(5000);
  expect(r.stderr).toContain(`catalog directory ${ro} is not writable: EROFS (read-only file system)`);
  expect(r.stderr).not.toContain('ENOENT');
});

test('a full catalog disk: exit 1 within 5 s saying no space (ENOSPC)', async () => {
  const full = join(dir, 'full');
  tmpfs(full, 'size=256k');
  try {
    writeFileSync(join(full, 'filler'), Buffer.alloc(1024 * 1024));
  } catch {
    /* filled up to the limit, as wanted */
  }
  const r = await serve({ DC_CATALOG_FILE: join(full, 'catalog.sqlite') });
  expect(r.code).toBe(1);
  expect(r.ms).toBeLessThan(5000);
  expect(r.stderr).toContain(`catalog directory ${full} is not writable: ENOSPC (no space left on the device)`);
});

test('a bad setting still exits 78 naming the key', async () => {
  const r = await serve({ DC_CPA_MAX_CONCURRENT_CALLS: 'many' });
  expect(r.code).toBe(78);
  expect(r.stderr).toContain('cpa.maxConcurrentCalls (DC_CPA_MAX_CONCURRENT_CALLS): must be a whole number');
});

test('/readyz names a recordings directory short of free space (a full tmpfs), 200 once there is room', async () => {
  const small = join(dir, 'spool');
  tmpfs(small, 'size=1m');
  writeFileSync(join(small, 'filler'), Buffer.alloc(900 * 1024));
  const svc = await startTestService('/nonexistent', {
    DC_RECORDINGS_LOCAL_DIR: small,
    DC_MIN_FREE_BYTES: String(512 * 1024),
    DC_MONITOR_ENABLED: 'false',
    DC_ARI_URL: 'http://127.0.0.1:1',
  });
  try {
    const r = await fetch(`${svc.portalUrl}/readyz`);
    expect(r.status).toBe(503);
    const body = (await r.json()) as { problems: string[] };
    expect(body.problems).toContain('ARI: not connected to Asterisk');
    expect(body.problems.find((p) => p.startsWith(`${small}:`))).toMatch(/bytes free, less than recordings.minFreeBytes \(524288\)/);
    rmSync(join(small, 'filler'));
    const again = (await (await fetch(`${svc.portalUrl}/readyz`)).json()) as { problems: string[] };
    expect(again.problems).toEqual(['ARI: not connected to Asterisk']);
  } finally {
    await svc.stop();
  }
});
