import { z } from 'zod';

/**
 * Every environment variable the service reads, with its default. Validated once at start-up; nothing outside
 * src/config/ reads process.env. README's configuration table documents the same list.
 */
const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

export const envSchema = z.object({
  PORT: integer(1, 65535).default(5001),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Folder holding the numeric version folders of one model (`<MODEL_DIR>/<version>/config.json`, ...). */
  MODEL_DIR: z.string().min(1).default('models/sentiment_analysis'),
  /** Version folder v1 serves; empty = the highest number (TensorFlow Serving's default policy). */
  MODEL_VERSION: z
    .string()
    .regex(/^\d+$/, 'must be a version folder number such as 1')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  /** ONNX Runtime intra-op threads; 0 = one per CPU this container may use (cgroup quota aware). */
  ONNX_INTRA_OP_THREADS: integer(0, 256).default(0),
  ONNX_INTER_OP_THREADS: integer(1, 256).default(1),
  /** Longest accepted sentence, in characters (longer → 400). Token-level truncation is separate. */
  MAX_SENTENCE_LENGTH: integer(1, 1_000_000).default(2000),
  /** Most sentences in one batch request. */
  MAX_BATCH_SIZE: integer(1, 4096).default(64),
  /** Largest request body (bytes, or a size such as 1mb). */
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)?$/i, 'must be a size such as 1048576, 512kb or 1mb')
    .default('1mb'),
  /**
   * On SIGTERM, how long readiness answers 503 before the server stops taking requests (ms), so load balancers
   * stop routing to this pod first.
   */
  SHUTDOWN_DELAY_MS: integer(0, 600_000).default(0),
  /** Serve Swagger UI at /docs and the document at /docs-json. */
  DOCS_ENABLED: bool.default(true),
});

export type Env = z.infer<typeof envSchema>;

export interface AppConfig {
  readonly server: { readonly port: number; readonly host: string; readonly bodyLimit: string; readonly docs: boolean };
  readonly log: { readonly level: Env['LOG_LEVEL'] };
  readonly model: { readonly dir: string; readonly version: string | undefined };
  readonly onnx: { readonly intraOpThreads: number; readonly interOpThreads: number };
  readonly limits: { readonly maxSentenceLength: number; readonly maxBatchSize: number };
  readonly shutdown: { readonly delayMs: number };
}

export const APP_CONFIG = 'CONFIG:APP';

export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';
}

/**
 * Parses the environment; on failure the error names every bad variable with its value and what is expected.
 */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `  ${name}=${JSON.stringify(env[name] ?? null)}: ${issue.message}`;
    });
    throw new ConfigValidationError(`invalid configuration:\n${problems.join('\n')}`);
  }
  const e = parsed.data;
  return {
    server: { port: e.PORT, host: e.HOST, bodyLimit: e.BODY_LIMIT, docs: e.DOCS_ENABLED },
    log: { level: e.LOG_LEVEL },
    model: { dir: e.MODEL_DIR, version: e.MODEL_VERSION },
    onnx: { intraOpThreads: e.ONNX_INTRA_OP_THREADS, interOpThreads: e.ONNX_INTER_OP_THREADS },
    limits: { maxSentenceLength: e.MAX_SENTENCE_LENGTH, maxBatchSize: e.MAX_BATCH_SIZE },
    shutdown: { delayMs: e.SHUTDOWN_DELAY_MS },
  };
}
