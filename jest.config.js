/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Integration tests share one sandbox Asterisk: one file at a time.
  maxWorkers: 1,
  testTimeout: 120000,
  // A test that fails half-way may leave a server open; CI must end anyway rather than wait for its limit.
  forceExit: true,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
