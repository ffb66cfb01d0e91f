/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  // p-limit 7 (and its yocto-queue) and string-width 8 (and its strip-ansi,
  // ansi-regex, get-east-asian-width) ship ESM only; jest's module runtime
  // cannot require() ESM, so ts-jest compiles those packages to CommonJS.
  transform: {
    '^.+\\.(ts|js)$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json', diagnostics: { warnOnly: false } }],
  },
  // A dynamic import() names its file with `.js` (as Node's ESM resolver needs); jest finds the `.ts`.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transformIgnorePatterns: ['/node_modules/(?!(p-limit|yocto-queue|string-width|strip-ansi|ansi-regex|get-east-asian-width)/)'],
  testTimeout: 60000,
};
