import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { loadConfig, ConfigError } from '../../src/config';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'dc-cfg-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const CLI = join(__dirname, '..', '..', 'dist', 'src', 'cli.js');

function problems(env: Record<string, string>, file?: string): string[] {
  try {
    loadConfig({ env, file });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

test('no configuration at all gives the sandbox defaults', () => {
  const cfg = loadConfig({ env: {} });
  expect(cfg.ari).toMatchObject({ url: 'http://127.0.0.1:8088', username: 'dialplan-companion', app: 'dialplan-companion' });
  expect(cfg.dial.endpoint).toBe('Local/${NUMBER}@fake-pstn');
});

test('environment overrides the file, the file overrides defaults', () => {
  const dir = tempDir();
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ dial: { endpoint: 'PJSIP/${NUMBER}@trunk', timeoutSec: 30 } }));
  const cfg = loadConfig({ env: { DC_DIAL_TIMEOUT_SEC: '20' }, file });
  expect(cfg.dial).toMatchObject({ endpoint: 'PJSIP/${NUMBER}@trunk', timeoutSec: 20 });
});

test('each bad value is named with its key, its env variable and what is allowed', () => {
  const p = problems({ DC_ARI_URL: 'ftp://x', DC_DIAL_TIMEOUT_SEC: '2', DC_DIAL_ENDPOINT: 'PJSIP/trunk', DC_LOG_LEVEL: 'loud' });
  expect(p.join('\n')).toMatch(/ari\.url \(DC_ARI_URL\): .*http/);
  expect(p.join('\n')).toMatch(/dial\.timeoutSec \(DC_DIAL_TIMEOUT_SEC\): .*5/);
  expect(p.join('\n')).toMatch(/dial\.endpoint \(DC_DIAL_ENDPOINT\): must contain \$\{NUMBER\}/);
  expect(p.join('\n')).toMatch(/log\.level \(DC_LOG_LEVEL\): .*"info"/);
});

test('a non-numeric number and an unknown file key are reported, not ignored', () => {
  expect(problems({ DC_DIAL_TIMEOUT_SEC: '30s' })).toEqual(['dial.timeoutSec (DC_DIAL_TIMEOUT_SEC): must be a whole number, got "30s"']);
  const dir = tempDir();
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ dial: { endpiont: 'x' } }));
  expect(problems({}, file)).toEqual(['unknown key(s): dial.endpiont']);
  writeFileSync(file, '{ not json');
  expect(problems({}, file)[0]).toMatch(/^config file .*c\.json: .*JSON/);
});

test('the public sandbox password is refused for a non-loopback ARI', () => {
  expect(problems({ DC_ARI_URL: 'http://pbx.example.net:8088' })[0]).toMatch(
    /ari\.password \(DC_ARI_PASSWORD\): the built-in sandbox password/,
  );
  expect(problems({ DC_ARI_URL: 'http://pbx.example.net:8088', DC_ARI_PASSWORD: 's3cret-long' })).toEqual([]);
});

test('secrets can come from a file (DC_ARI_PASSWORD_FILE), never both ways at once', () => {
  const dir = tempDir();
  const f = join(dir, 'ari.secret');
  writeFileSync(f, 'from-file\n');
  expect(loadConfig({ env: { DC_ARI_PASSWORD_FILE: f } }).ari.password).toBe('from-file');
  expect(problems({ DC_ARI_PASSWORD_FILE: f, DC_ARI_PASSWORD: 'x' })).toEqual([
    'DC_ARI_PASSWORD and DC_ARI_PASSWORD_FILE are both set: use one',
  ]);
  expect(problems({ DC_ARI_PASSWORD_FILE: join(dir, 'missing') })[0]).toMatch(/DC_ARI_PASSWORD_FILE: cannot read .*ENOENT/);
});

describe('CLI', () => {
  test('serve with a malformed config exits non-zero and names the key', () => {
    const r = spawnSync('node', [CLI, 'serve'], {
      env: { ...process.env, DC_DIAL_TIMEOUT_SEC: 'soon' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('dial.timeoutSec (DC_DIAL_TIMEOUT_SEC): must be a whole number, got "soon"');
  });

  test('every subcommand has --help; unknown options are refused', () => {
    const top = execFileSync('node', [CLI, '--help'], { encoding: 'utf8' });
    const names = [...top.matchAll(/^ {2}([a-z][a-z-]*) {2,}/gm)].map((m) => m[1]!);
    expect(names).toEqual(expect.arrayContaining(['serve', 'doctor']));
    for (const n of names)
      expect(execFileSync('node', [CLI, n, '--help'], { encoding: 'utf8' })).toMatch(new RegExp(`^Usage: dialplan-companion ${n}`));
    const bad = spawnSync('node', [CLI, 'doctor', '--frobnicate'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/frobnicate/);
  });
});

test('DC_ARI_URL that is not a URL is a configuration error naming the key (exit 78), not a crash', () => {
  expect(problems({ DC_ARI_URL: 'not-a-url' })).toEqual([
    expect.stringMatching(/^ari\.url \(DC_ARI_URL\): /),
    'ari.url (DC_ARI_URL): must be an http:// or https:// URL',
  ]);
  const r = spawnSync('node', [CLI, 'serve'], { env: { ...process.env, DC_ARI_URL: 'not-a-url' }, encoding: 'utf8', timeout: 20_000 });
  expect(r.status).toBe(78);
  expect(r.stderr).toContain('ari.url (DC_ARI_URL)');
  expect(r.stderr).not.toContain('TypeError');
});

test('"__proto__" in DC_CPA_PARAMS or a config file is refused by name, not dropped silently', () => {
  expect(problems({ DC_CPA_PARAMS: '{"__proto__":{"amd_time_limit":5}}' })).toEqual(['cpa.params.__proto__: "__proto__" is not a setting']);
  const file = join(tempDir(), 'c.json');
  writeFileSync(file, '{"cpa":{"configs":{"a/b":{"constructor":1}}}}');
  expect(problems({}, file)).toEqual(['cpa.configs.a/b.constructor: "constructor" is not a setting']);
});
