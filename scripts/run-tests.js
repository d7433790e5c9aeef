#!/usr/bin/env node
// npm test's runner: the fast tests (unit, loopback integration) in parallel workers; the store-level ones
// again on a throw-away PostgreSQL (every test file that imports test/support/pg: DC_TEST_PG_URL); then the
// tests that share the sandbox Asterisk one file at a time, those that call on PostgreSQL again (a few: the
// rest is the same code); one closing line with the totals of all runs.
// Extra arguments go to every jest run (e.g. -t 'a test name').
const { spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync, readdirSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const jest = require.resolve('jest/bin/jest');
const dir = mkdtempSync(join(tmpdir(), 'dc-test-run-'));
const extra = process.argv.slice(2);
const root = join(__dirname, '..');
const onBoth = ['test/unit', 'test/integration'].flatMap((d) =>
  readdirSync(join(root, d))
    .filter((f) => f.endsWith('.test.ts') && readFileSync(join(root, d, f), 'utf8').includes("'../support/pg'"))
    .map((f) => `${d}/${f}`),
);
// The sandbox tests run on PostgreSQL too: calls, their recordings and deliveries through the shared catalog.
const asteriskOnPostgres = ['test/asterisk/first-call.test.ts', 'test/asterisk/transport-call.test.ts', 'test/asterisk/agi-door.test.ts'];
const runs = [
  { name: 'fast', args: ['--selectProjects', 'unit', 'integration', '--maxWorkers=2'] },
  { name: 'fast on PostgreSQL', args: [...onBoth, '--selectProjects', 'unit', 'integration', '--maxWorkers=2'], postgres: true },
  { name: 'asterisk', args: ['--selectProjects', 'asterisk', '--runInBand'] },
  { name: 'asterisk on PostgreSQL', args: [...asteriskOnPostgres, '--selectProjects', 'asterisk', '--runInBand'], postgres: true },
];

async function main() {
  const total = { passed: 0, failed: 0, skipped: 0 };
  let code = 0;
  let pg;
  for (const run of runs) {
    const out = join(dir, `${run.name.replace(/\W+/g, '-')}.json`);
    if (run.postgres && !pg) {
      // Debian's PostgreSQL under a temporary directory (scripts/lib/postgres.ts, built by `npm run build`).
      pg = await require(join(root, 'dist/scripts/lib/postgres.js')).startTempPostgres();
      process.stdout.write(`\nrun-tests: PostgreSQL ${pg.port} for the runs on PostgreSQL\n`);
    }
    const r = spawnSync(process.execPath, [jest, ...run.args, '--json', `--outputFile=${out}`, ...extra], {
      stdio: 'inherit',
      env: { ...process.env, DC_TEST_SUMMARY: 'off', ...(run.postgres ? { DC_TEST_PG_URL: pg.url } : {}) },
    });
    if (r.status !== 0) code = r.status ?? 1;
    try {
      const j = JSON.parse(readFileSync(out, 'utf8'));
      total.passed += j.numPassedTests;
      total.failed += j.numFailedTests + (j.numRuntimeErrorTestSuites || 0);
      total.skipped += j.numPendingTests + (j.numTodoTests || 0);
    } catch {
      // jest died before writing its report: count it as a failure of that run
      total.failed += 1;
      code = code || 1;
    }
  }
  pg?.destroy();
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
  process.exit(code);
}

void main();
