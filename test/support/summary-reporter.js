// Prints the plain closing line CI reads ("N passed, N failed, N skipped") after jest's own summary.
class SummaryReporter {
  onRunComplete(_contexts, r) {
    if (process.env.DC_TEST_SUMMARY === 'off') return; // scripts/run-tests.js prints the totals of its runs
    const failed = r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
    process.stdout.write(`\n${r.numPassedTests} passed, ${failed} failed, ${r.numPendingTests + r.numTodoTests} skipped\n`);
  }
}
module.exports = SummaryReporter;
