/**
 * Three jest projects: `unit` (specs beside the code in src/, tools/, bench/), `e2e` (test/: the HTTP contract against
 * the in-process app, and end-to-end against the built process) and `slow` (test/deploy/: real images, compose, helm,
 * a BERT-base in the image; minutes, and skipped without the deployment tools unless DEPLOY_CHECKS=required).
 * `npm test` runs all three; `--selectProjects unit e2e` leaves the slow tier out.
 * ESM mode (NestJS 12 ships ESM only): ts-jest's default-esm preset, run under --experimental-vm-modules.
 */
import vm from 'node:vm';

/**
 * @fastify/static (CommonJS, loaded by Swagger UI) require()s content-disposition 3, which is ESM. Jest evaluates
 * ESM synchronously inside require() on Node 24.9+ (the same check as jest-runtime's); on older Node it needs that
 * package transformed to CommonJS.
 */
const jestRequiresEsmNatively = typeof vm.SourceTextModule?.prototype.hasAsyncGraph === 'function';
const contentDispositionToCjs = jestRequiresEsmNatively
  ? {}
  : {
      transform: {
        '/node_modules/content-disposition/.+\\.js$': [
          'ts-jest',
          { tsconfig: { allowJs: true, module: 'commonjs', esModuleInterop: true }, isolatedModules: true },
        ],
      },
      transformIgnorePatterns: ['^(?!.*/node_modules/content-disposition/).*/node_modules/'],
    };

const shared = {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: '<rootDir>/test/support/node-realm.environment.cjs',
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  ...contentDispositionToCjs,
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }],
    ...contentDispositionToCjs.transform,
  },
  extensionsToTreatAsEsm: ['.ts'],
};

/** @type {import('jest').Config} */
export default {
  // Jest's 5 s default cut a test that talks to a child process on a loaded machine; suites that need more say so.
  testTimeout: 30_000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/tools/**/*.spec.ts', '<rootDir>/bench/**/*.spec.ts'],
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/*.e2e-spec.ts'],
      // dist/ compiled once for the suites that start the built service.
      globalSetup: '<rootDir>/test/support/build-once.mjs',
    },
    {
      ...shared,
      displayName: 'slow',
      testMatch: ['<rootDir>/test/deploy/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/build-once.mjs',
    },
  ],
};
