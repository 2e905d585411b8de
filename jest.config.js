/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type checking runs once in `npm run typecheck`; per-file transpiling keeps jest fast.
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  // fauxqs ships as ESM only; the suites reach it through a child process (see __tests__/support).
  setupFiles: ['<rootDir>/__tests__/support/jest-setup.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
};
