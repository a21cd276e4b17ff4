import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ConfigProblem, ConfigValidationError, envSchema, loadConfig } from './app.config.js';

describe('loadConfig', () => {
  it('should apply the documented defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config.server).toEqual({
      port: 5001,
      host: '0.0.0.0',
      bodyLimit: 1024 * 1024,
      docs: true,
      receiveTimeoutMs: 10_000,
    });
    expect(config.model).toEqual({ dir: 'models/sentiment_analysis', version: undefined, tokenizerFastPath: true });
    expect(config.limits).toEqual({ maxSentenceLength: 2000, maxBatchSize: 64 });
    expect(config.onnx).toEqual({
      intraOpThreads: 0,
      interOpThreads: 1,
      execution: 'workers',
      idleInline: true,
      workers: 0,
      memoryArena: true,
      precision: 'fp32',
    });
    expect(config.batching).toEqual({
      enabled: true,
      maxBatchSize: 8,
      maxWaitMs: 0,
      maxQueueRows: 1024,
      concurrencyV1: 0,
      concurrencyV2: 4,
      groupByLength: true,
      maxPadding: 0.5,
    });
    expect(config.log.level).toBe('info');
    expect(config.memory).toEqual({ heapGrowingPercent: 100 });
  });

  it('should coerce numbers and booleans from strings', () => {
    const config = loadConfig({
      PORT: '8080',
      MAX_BATCH_SIZE: '8',
      DOCS_ENABLED: 'false',
      MODEL_VERSION: '3',
      TOKENIZER_FAST_PATH: '0',
    });
    expect(config.model.tokenizerFastPath).toBe(false);
    expect(config.server.port).toBe(8080);
    expect(config.limits.maxBatchSize).toBe(8);
    expect(config.server.docs).toBe(false);
    expect(config.model.version).toBe('3');
  });

  it('should name every bad variable, with its value, in one error', () => {
    const env = { PORT: 'eighty', MAX_BATCH_SIZE: '0', LOG_LEVEL: 'loud', BODY_LIMIT: 'huge', MODEL_VERSION: 'latest' };
    expect(() => loadConfig(env)).toThrow(ConfigValidationError);
    let problems: readonly ConfigProblem[] = [];
    try {
      loadConfig(env);
    } catch (error) {
      problems = (error as ConfigValidationError).problems;
    }
    expect(Object.fromEntries(problems.map(({ variable, value }) => [variable, value]))).toEqual(env);
    expect(problems).toHaveLength(Object.keys(env).length);
    // Said in words, not as zod's "expected number, received NaN".
    expect(problems).toContainEqual({ variable: 'PORT', value: 'eighty', problem: 'expected a number' });
  });

  it('should ignore unrelated variables', () => {
    expect(() => loadConfig({ HOME: '/root', PATH: '/bin' })).not.toThrow();
  });

  it('should read API keys from API_KEYS and a key file, and refuse short keys or an unreadable file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keys-'));
    try {
      const file = join(dir, 'keys');
      writeFileSync(file, '# rotated 2026-11\nfile-key-0123456789abcdef\n\n');
      const config = loadConfig({ API_KEYS: ' env-key-0123456789abcdef , ', API_KEYS_FILE: file });
      expect(config.security.apiKeys).toEqual(['env-key-0123456789abcdef', 'file-key-0123456789abcdef']);
      expect(loadConfig({}).security.apiKeys).toEqual([]);
      expect(() => loadConfig({ API_KEYS: 'short' })).toThrow(/at least 16 characters/);
      expect(() => loadConfig({ API_KEYS_FILE: join(dir, 'missing') })).toThrow(/API_KEYS_FILE=.*cannot read: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docs/configuration.md', () => {
  it('should list exactly the variables the service reads, one table row each', () => {
    const page = readFileSync(fileURLToPath(new URL('../../docs/configuration.md', import.meta.url)), 'utf8');
    const documented = [...page.matchAll(/^\| `([A-Z][A-Z0-9_]*)`/gm)].map(([, name]) => name);
    expect([...documented].sort()).toEqual(Object.keys(envSchema.shape).sort());
  });
});
