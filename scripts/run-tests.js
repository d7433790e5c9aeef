#!/usr/bin/env node
// npm test's runner: the fast tests (unit, loopback integration) in parallel workers, then the tests that
// share the sandbox Asterisk one file at a time; one closing line with the totals of both.
// Extra arguments go to both jest runs (e.g. -t 'a test name').
const { spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const jest = require.resolve('jest/bin/jest');
const dir = mkdtempSync(join(tmpdir(), 'dc-test-run-'));
const extra = process.argv.slice(2);
const runs = [
  { name: 'fast', args: ['--selectProjects', 'unit', 'integration', '--maxWorkers=2'] },
  { name: 'asterisk', args: ['--selectProjects', 'asterisk', '--runInBand'] },
];
const total = { passed: 0, failed: 0, skipped: 0 };
let code = 0;
for (const run of runs) {
  const out = join(dir, `${run.name}.json`);
  const r = spawnSync(process.execPath, [jest, ...run.args, '--json', `--outputFile=${out}`, ...extra], {
    stdio: 'inherit',
    env: { ...process.env, DC_TEST_SUMMARY: 'off' },
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
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
process.exit(code);
