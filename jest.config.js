/**
 * Two jest projects for three tiers: `unit` (specs beside the code in src/, tools/, bench/) and `e2e` (test/: the HTTP
 * contract against the in-process app, end-to-end against the built process, and test/deploy/ against real images,
 * compose and helm).
 * ESM mode (NestJS 12 ships ESM only): ts-jest's default-esm preset, run under --experimental-vm-modules.
 */
const shared = {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: '<rootDir>/test/support/node-realm.environment.cjs',
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }],
    '/node_modules/content-disposition/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', esModuleInterop: true }, isolatedModules: true },
    ],
  },
  transformIgnorePatterns: ['^(?!.*/node_modules/content-disposition/).*/node_modules/'],
  extensionsToTreatAsEsm: ['.ts'],
};

/** @type {import('jest').Config} */
export default {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/tools/**/*.spec.ts', '<rootDir>/bench/**/*.spec.ts'],
    },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};
