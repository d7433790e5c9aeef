import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeUlaw, encodeWav } from '../../src/media';
import { Signal } from '../../scripts/lib/signals';

const CLI = join(__dirname, '..', '..', 'dist', 'src', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'dc-cli-cpa-'));
const cli = (...args: string[]) => spawnSync('node', [CLI, 'cpa', ...args], { encoding: 'utf8', timeout: 20_000 });

test('analyze a WAV and a raw .ul recording: JSON lines with result and at_ms', () => {
  const sig = new Signal().silence(400).speech(4000).silence(300).tone(400, [1000], -18).silence(2000).noise(-60).pcm();
  writeFileSync(join(dir, 'am.wav'), encodeWav(sig, 8000));
  writeFileSync(join(dir, 'am.ul'), encodeUlaw(sig));
  for (const f of ['am.wav', 'am.ul']) {
    const r = cli('analyze', join(dir, f), '--json');
    expect(r.status).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { result: string; at_ms: number });
    expect(events[0]).toMatchObject({ result: 'AM' });
    expect(events.some((e) => e.result === 'BP' && Math.abs(e.at_ms - 5100) <= 60)).toBe(true);
  }
});

test('named configurations (--config NAME, per tenant): their parameters apply, --params on top; unknown name is error 03', () => {
  // 1.6 s of talk then silence: a hello by the defaults (maxtime 2400), a machine for a tenant using maxtime 1000.
  writeFileSync(join(dir, 'talk.wav'), encodeWav(new Signal().silence(300).speech(1600).silence(3000).noise(-60).pcm(), 8000));
  writeFileSync(
    join(dir, 'svc.json'),
    JSON.stringify({ cpa: { configs: { 'acme/outbound': { maxtime: 1000 }, 'beta/quiet': { energy_lwm: 99 } } } }),
  );
  const env = { ...process.env, DC_CONFIG: join(dir, 'svc.json') };
  const run = (...args: string[]) =>
    spawnSync('node', [CLI, 'cpa', 'analyze', join(dir, 'talk.wav'), '--json', ...args], { encoding: 'utf8', env, timeout: 20_000 });
  const first = (r: ReturnType<typeof run>) => JSON.parse(r.stdout.trim().split('\n')[0]!) as { result: string };
  expect(first(run())).toMatchObject({ result: 'LV' });
  expect(first(run('--config', 'acme/outbound'))).toMatchObject({ result: 'AM' });
  expect(first(run('--config', 'acme/outbound', '--params', '{"maxtime":2400}'))).toMatchObject({ result: 'LV' });
  let r = run('--config', 'acme/inbound');
  expect(r.status).toBe(2);
  expect(r.stderr).toContain("error 03: no CPA configuration 'acme/inbound' (known: acme/outbound, beta/quiet)");
  r = run('--config', 'beta/quiet');
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('error 01: energy_lwm: must be between 3 and 30, got 99');
});

test('bad file: clear error, exit 1; bad parameter: named with its range, exit 2', () => {
  writeFileSync(join(dir, 'junk.wav'), 'this is not audio');
  let r = cli('analyze', join(dir, 'junk.wav'));
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/not a WAV file/);
  r = cli('analyze', join(dir, 'missing.wav'));
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/cannot read .*ENOENT/);
  r = cli('analyze', join(dir, 'am.wav'), '--params', '{"amd_time_limit":99}');
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('error 01: amd_time_limit: must be between 1000 and 3000, got 99');
  r = cli('analyze', join(dir, 'am.wav'), '--params', 'not json');
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/--params must be a JSON object/);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('analyze refuses what is not a regular file at once, naming the problem: /dev/zero, a FIFO', () => {
  const fifo = join(dir, 'pipe.ul');
  spawnSync('mkfifo', [fifo]);
  for (const f of ['/dev/zero', fifo]) {
    const t0 = Date.now();
    const r = cli('analyze', f, '--json');
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${f}: not a regular file`);
  }
});
