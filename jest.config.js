/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type checking runs once in `npm run typecheck`; per-file transpiling keeps jest fast.
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  setupFiles: ['<rootDir>/__tests__/support/jest-setup.ts'],
  // Installs LocalStack into .venv/localstack on the first run (no test timeout applies there).
  globalSetup: '<rootDir>/__tests__/support/global-setup.ts',
  // The extra reporter ends the run with a plain "tests: N passed, N failed" line.
  reporters: ['default', '<rootDir>/__tests__/support/summary-reporter.js'],
  // Integration suites start emulators (fauxqs in a child process: it ships as ESM only; LocalStack in Python).
  testTimeout: 60000,
  maxWorkers: 2,
};
