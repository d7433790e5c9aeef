import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Catalog } from '../../src/recordings';

const CLI = join(__dirname, '..', '..', 'dist', 'src', 'cli.js');
const file = join(mkdtempSync(join(tmpdir(), 'dc-cli-rec-')), 'catalog.sqlite');
const cli = (...args: string[]) =>
  spawnSync('node', [CLI, ...args], { encoding: 'utf8', env: { ...process.env, DC_CATALOG_FILE: file }, timeout: 20_000 });

test('recordings list/show and deliveries list/dead/retry read the catalog', async () => {
  const c = await Catalog.open(file);
  const rec = await c.addRecording(
    {
      uniqueid: '1.1',
      ani: '2125550100',
      dnis: '4175551234',
      durationMs: 6000,
      path: '2026/11/23/a.wav',
      format: 'wav',
      sizeBytes: 96044,
      sha256: 'a'.repeat(64),
      source: 'ari',
      cpaResult: 'AM',
    },
    [{ route: 'crm', kind: 'webhook', target: 'http://127.0.0.1:9/x' }],
  );
  const [d] = await c.claimDue(1, 1000);
  await c.finishAttempt(d!, { outcome: 'dead', httpStatus: 410, error: 'HTTP 410 gone', durationMs: 5 });
  await c.close();

  let r = cli('recordings', 'list', '--json');
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject([{ id: rec.id, ani: '2125550100', cpaResult: 'AM' }]);
  r = cli('recordings', 'list', '--dnis', '999');
  expect(r.stdout.trim()).toBe('(none)');
  r = cli('recordings', 'show', rec.id);
  expect(r.stdout).toContain(`#${d!.id} crm (webhook http://127.0.0.1:9/x) dead, 1 attempt(s), last error: HTTP 410 gone`);
  expect(cli('recordings', 'show', 'rec_nope').status).toBe(1);

  r = cli('deliveries', 'dead', '--json');
  expect(JSON.parse(r.stdout)).toMatchObject([{ id: d!.id, status: 'dead', lastError: 'HTTP 410 gone' }]);
  r = cli('deliveries', 'retry', String(d!.id));
  expect(r.status).toBe(0);
  expect(JSON.parse(cli('deliveries', 'list', '--status', 'pending', '--json').stdout)).toHaveLength(1);
  expect(cli('deliveries', 'retry', 'abc').status).toBe(2);
  expect(cli('deliveries', 'list', '--status', 'weird').stderr).toMatch(/--status must be/);
});

afterAll(() => rmSync(dirname(file), { recursive: true, force: true }));
