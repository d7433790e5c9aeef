// What an admin installs beside the code: the systemd unit passes systemd's own check, the environment
// template names every secret as a *_FILE, and the Grafana dashboard asks only for metrics we export.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_SETTINGS } from '../../src/config';
import { Metrics } from '../../src/metrics';

const PKG = join(__dirname, '..', '..', 'packaging');
const hasSystemd = spawnSync('systemd-analyze', ['--version']).status === 0;

(hasSystemd ? test : test.skip)('systemd-analyze verify passes on the unit', () => {
  expect(() =>
    execFileSync('systemd-analyze', ['verify', join(PKG, 'dialplan-companion.service')], { stdio: 'pipe', cwd: PKG }),
  ).not.toThrow();
  const unit = readFileSync(join(PKG, 'dialplan-companion.service'), 'utf8');
  for (const line of [
    'Restart=on-failure',
    'RestartPreventExitStatus=78',
    'ProtectSystem=strict',
    'NoNewPrivileges=true',
    'SupplementaryGroups=asterisk',
    'ReadWritePaths=/var/lib/dialplan-companion /var/spool/asterisk/monitor',
  ])
    expect(unit).toContain(line);
});

test('the environment template names every secret as *_FILE and nothing secret in clear', () => {
  const env = readFileSync(join(PKG, 'env.example'), 'utf8');
  for (const s of ENV_SETTINGS.filter((x) => x.secret)) {
    expect(env).toContain(`${s.env}_FILE=`);
    expect(env).not.toMatch(new RegExp(`^#?\\s*${s.env}=`, 'm'));
  }
});

test('every metric the Grafana dashboard queries is one the service exports', async () => {
  const m = new Metrics({
    activeCalls: () => 0,
    activeTaps: () => 0,
    rtp: () => ({ packets: 0, lost: 0, malformed: 0 }),
    deliveries: async () => ({ pending: 0, sending: 0, delivered: 0, dead: 0 }),
    targets: () => [],
    outages: async () => [],
  });
  m.cpaDecision.observe(1);
  m.deliverySeconds.observe(1);
  const lines = (await m.registry.metrics()).split('\n');
  // samples, and the families declared (a labelled counter that never moved has no sample yet)
  const exported = new Set([
    ...lines.filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]!),
    ...lines.filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]!),
  ]);
  const dash = JSON.parse(readFileSync(join(PKG, 'grafana-dashboard.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
  const FUNCS = new Set([
    'sum',
    'by',
    'rate',
    'histogram_quantile',
    'increase',
    'clamp_min',
    'le',
    'status',
    'outcome',
    'result',
    'kind',
    'script',
    'target',
    'dead',
    'pending',
    'sending',
  ]);
  const asked = new Set(
    dash.panels
      .flatMap((p) => p.targets.flatMap((t) => t.expr.match(/[a-z_:][a-z0-9_:]*/g) ?? []))
      .filter((w) => !FUNCS.has(w) && /_/.test(w)),
  );
  expect([...asked].filter((n) => !exported.has(n)).sort()).toEqual([]);
  expect(asked.size).toBeGreaterThan(15);
});
