/** The soak run (npm run soak, not in CI): see tests/soak/soak.test.ts for its variables. */
const faults = require('./jest.faults.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...faults,
  testMatch: ['<rootDir>/tests/soak/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
