/** One jest run for every package; see testkit/src for the servers the global setup starts. */
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@analytics/common$': '<rootDir>/common/src/index.ts',
    '^@analytics/testkit$': '<rootDir>/testkit/src/index.ts',
  },
  testMatch: ['<rootDir>/*/tests/**/*.test.ts', '<rootDir>/tests/**/*.test.ts'],
  testPathIgnorePatterns: [
    '/node_modules/',
    '/dist/',
    '<rootDir>/tests/faults/',
    '<rootDir>/tests/soak/',
    '<rootDir>/tests/browser/',
  ],
  setupFilesAfterEnv: ['<rootDir>/testkit/src/jest-quiet-logs.ts'],
  globalSetup: '<rootDir>/testkit/src/jest-global-setup.ts',
  globalTeardown: '<rootDir>/testkit/src/jest-global-teardown.ts',
  testTimeout: 30_000,
  // The test MongoDB engine is single-process; two workers keep it (and a 2-core machine) responsive.
  maxWorkers: 2,
};
