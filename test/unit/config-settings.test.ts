// One source for settings: every leaf of the schema has exactly one environment variable of its kind and a
// row in the README's configuration table (file-only settings are named here, on purpose).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configLeaves, ENV_SETTINGS, loadConfig } from '../../src/config';

const FILE_ONLY = new Set(['transport.routes']);
const ENV_TYPE = { string: 'string', int: 'int', number: 'number', bool: 'bool', json: 'json', list: 'list', objects: undefined } as const;
const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const configRows = readme
  .slice(readme.indexOf('## Configuration'), readme.indexOf('## CLI'))
  .split('\n')
  .filter((l) => l.startsWith('| `'));

test.each(configLeaves().map((l) => [l.path, l.kind] as const))('%s (%s): one env variable of its kind, one README row', (path, kind) => {
  const envs = ENV_SETTINGS.filter((e) => e.path.join('.') === path);
  if (FILE_ONLY.has(path)) expect(envs).toEqual([]);
  else {
    expect(envs.map((e) => e.type)).toEqual([ENV_TYPE[kind]]);
  }
  // the row that defines it: the key in its first cell
  const rows = configRows.filter((r) => r.split('|')[1]!.includes(`\`${path}\``));
  expect({ path, rows: rows.length }).toEqual({ path, rows: 1 });
  for (const e of envs) expect(rows[0]).toContain(`\`${e.env}\``);
});

test('every env variable names a leaf of the schema', () => {
  const leaves = new Set(configLeaves().map((l) => l.path));
  expect(ENV_SETTINGS.filter((e) => !leaves.has(e.path.join('.'))).map((e) => e.env)).toEqual([]);
});

test('fractional hours and days are read as numbers from the environment', () => {
  const cfg = loadConfig({
    env: { DC_LINK_TTL_HOURS: '0.5', DC_SESSION_HOURS: '1.5', DC_DELIVERY_MAX_AGE_HOURS: '0.25', DC_RETENTION_DAYS: '0.5' },
  });
  expect([cfg.portal.linkTtlHours, cfg.portal.sessionHours, cfg.transport.maxAgeHours, cfg.recordings.retentionDays]).toEqual([
    0.5, 1.5, 0.25, 0.5,
  ]);
  expect(() => loadConfig({ env: { DC_SESSION_HOURS: '1,5' } })).toThrow(
    'portal.sessionHours (DC_SESSION_HOURS): must be a number, got "1,5"',
  );
});
