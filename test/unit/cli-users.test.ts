// The accounts an admin manages from the shell: roles and extensions, the first account is an admin, a later
// one must name its role; passwd/disable/remove end that user's sessions (another process's, through the
// shared catalog); every change is in the audit trail that `audit list` prints.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Catalog } from '../../src/recordings';

const CLI = join(__dirname, '..', '..', 'dist', 'src', 'cli.js');
const file = join(mkdtempSync(join(tmpdir(), 'dc-cli-users-')), 'catalog.sqlite');
const cli = (args: string[], input?: string) =>
  spawnSync('node', [CLI, ...args], { encoding: 'utf8', input, env: { ...process.env, DC_CATALOG_FILE: file }, timeout: 20_000 });
const LIMITS = { idleMs: 3600_000, absoluteMs: 3600_000 };

afterAll(() => rmSync(dirname(file), { recursive: true, force: true }));

test('users add/set/passwd/disable/enable/remove, roles and extensions; sessions end; audit list shows it all', async () => {
  expect(cli(['users', 'add', 'root'], 'a long password\n')).toMatchObject({ status: 0, stdout: 'added root (admin)\n' });
  const second = cli(['users', 'add', 'alice'], 'a long password\n');
  expect(second.status).toBe(1);
  expect(second.stderr).toContain('role: give it (--role admin|supervisor|agent)');
  expect(cli(['users', 'add', 'alice', '--role', 'boss'], 'a long password\n')).toMatchObject({ status: 2 });
  expect(cli(['users', 'add', 'alice', '--role', 'agent', '--extensions', '2001,2x;'], 'a long password\n').stderr).toContain(
    "'2x;' is not an extension",
  );
  expect(cli(['users', 'add', 'alice', '--role', 'agent', '--extensions', '2001, 2002'], 'a long password\n').stdout).toBe(
    'added alice (agent, extensions 2001,2002)\n',
  );
  expect(cli(['users', 'set', 'alice', '--extensions', '2003']).stdout).toBe('alice: agent, extensions 2003\n');
  expect(cli(['users', 'list']).stdout).toMatch(/^alice {2}agent 2003 {2}\S+\nroot {2}admin {2}\S+\n$/);

  // a portal session held by another process ends when the CLI disables the account
  const c = await Catalog.open(file);
  try {
    const s = await c.sessions.create('alice', '127.0.0.1');
    expect(await c.sessions.resolve(s.id, LIMITS)).toBeDefined();
    expect(cli(['users', 'disable', 'alice']).stdout).toBe('disabled alice (their sessions ended)\n');
    expect(await c.sessions.resolve(s.id, LIMITS)).toBeUndefined();
    expect(cli(['users', 'enable', 'alice']).status).toBe(0);
    const s2 = await c.sessions.create('alice', '127.0.0.1');
    expect(cli(['users', 'passwd', 'alice'], 'another long password\n').status).toBe(0);
    expect(await c.sessions.resolve(s2.id, LIMITS)).toBeUndefined();
  } finally {
    await c.close();
  }
  expect(cli(['users', 'disable', 'root'])).toMatchObject({
    status: 1,
    stderr: expect.stringContaining("'root' is the last active admin"),
  });
  expect(cli(['users', 'remove', 'alice']).status).toBe(0);

  const trail = cli(['audit', 'list', '--user', 'cli', '--json']);
  expect(trail.status).toBe(0);
  const actions = (JSON.parse(trail.stdout) as { action: string; target: string }[]).map((e) => `${e.action} ${e.target}`);
  expect(actions).toEqual([
    'user_remove alice',
    'user_password alice',
    'user_enable alice',
    'user_disable alice',
    'user_set alice',
    'user_add alice',
    'user_add root',
  ]);
  expect(cli(['audit', 'list', '--action', 'nonsense'])).toMatchObject({ status: 2 });
  expect(cli(['audit', 'list', '--action', 'user_add']).stdout.trim().split('\n')).toHaveLength(2);
});
