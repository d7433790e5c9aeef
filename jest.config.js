/** @type {import('jest').Config} */
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
  testTimeout: 120000,
};

// Tests named by what they need:
//   test/unit         nothing (pure, in parallel workers)
//   test/integration  real servers on loopback (HTTP, SMTP, chromium), no root, no Asterisk
//   test/asterisk     the sandbox Asterisk (root); one file at a time, they share it
//   test/root         root for other reasons (mounts)
// `npm run test:fast` runs the first two, `npm run test:asterisk` the last two, `npm test` all of them.
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    { ...common, displayName: 'asterisk', testMatch: ['<rootDir>/test/asterisk/**/*.test.ts', '<rootDir>/test/root/**/*.test.ts'] },
  ],
  testTimeout: 120000,
  // A test that fails half-way may leave a server open; CI must end anyway rather than wait for its limit.
  forceExit: true,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
