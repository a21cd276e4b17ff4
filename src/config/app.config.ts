import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * Every environment variable the service reads, with its default. Validated once at start-up; nothing outside
 * src/config/ reads process.env. docs/configuration.md documents the same list.
 */
/** A number from a variable's text ("abc" is "expected a number", not zod's "received NaN"). */
const numeric = () => z.coerce.number({ error: 'expected a number' });
const integer = (min: number, max: number) => numeric().int('expected a whole number').min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

/** Shortest accepted API key: 16 random characters are beyond guessing at any request rate. */
export const MIN_API_KEY_LENGTH = 16;

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
  /**
   * Where v1 runs ONNX Runtime: in worker threads (the default; inference never blocks the event loop and several
   * batches run at once) or inline on the main thread.
   */
  ONNX_EXECUTION: z.enum(['workers', 'inline']).default('workers'),
  /** Worker threads, each with its own session; 0 = one per CPU this container may use (cgroup quota aware). */
  ONNX_WORKERS: integer(0, 64).default(0),
  /** ONNX Runtime intra-op threads per session; 0 = the usable CPUs divided among the sessions. */
  ONNX_INTRA_OP_THREADS: integer(0, 256).default(0),
  ONNX_INTER_OP_THREADS: integer(1, 256).default(1),
  /** ONNX Runtime's CPU memory arena (faster allocations, but holds the largest batch's memory). */
  ONNX_MEMORY_ARENA: bool.default(true),
  /**
   * Which file of the version folder v1 serves: model.onnx (fp32), or model.int8.onnx written by
   * `npm run model:quantize` (int8 weights, about a quarter of the size and memory, faster on CPUs).
   */
  ONNX_PRECISION: z.enum(['fp32', 'int8']).default('fp32'),
  /**
   * Tokenize Latin-script text with tokenizers.js when it matches the Rust reference on every such character
   * (checked at start-up); false = the reference for every sentence.
   */
  TOKENIZER_FAST_PATH: bool.default(true),
  /** Longest accepted sentence, in characters (longer → 400). Token-level truncation is separate. */
  MAX_SENTENCE_LENGTH: integer(1, 1_000_000).default(2000),
  /** Most sentences in one batch request. */
  MAX_BATCH_SIZE: integer(1, 4096).default(64),
  /** Largest request body (bytes, or a size such as 1mb). */
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)?$/i, 'must be a size such as 1048576, 512kb or 1mb')
    .default('1mb')
    .transform((size) => {
      const [, amount, unit] = /^(\d+)(b|kb|mb)?$/i.exec(size)!;
      return Number(amount) * ({ kb: 1024, mb: 1024 * 1024 }[unit?.toLowerCase() ?? ''] ?? 1);
    }),
  /**
   * On SIGTERM, how long readiness answers 503 before the server stops taking requests (ms), so load balancers
   * stop routing to this pod first.
   */
  SHUTDOWN_DELAY_MS: integer(0, 600_000).default(0),
  /**
   * After SHUTDOWN_DELAY_MS, how long in-flight and queued requests may take to finish (ms) before the remaining
   * connections are closed; keep SHUTDOWN_DELAY_MS + this below the pod's terminationGracePeriodSeconds.
   */
  SHUTDOWN_TIMEOUT_MS: integer(0, 600_000).default(20_000),
  /**
   * How far V8 lets the main thread's heap grow past its live size before a full collection (percent); 0 = V8's own
   * factor (up to 4x under load: more memory for slightly less garbage collection).
   */
  HEAP_GROWING_PERCENT: integer(0, 1000).default(100),
  /** Serve Swagger UI at /docs and the document at /docs-json. */
  DOCS_ENABLED: bool.default(true),
  /**
   * Deadline of one inference request (ms), queue wait included; past it → 504. A client may shorten it with the
   * X-Request-Timeout-Ms header, never lengthen it.
   */
  REQUEST_TIMEOUT_MS: integer(1, 600_000).default(10_000),
  /**
   * Time a client has to send a whole request, headers and body (ms); past it → 408 and the connection is closed.
   * Keeps slow or stalled uploads from holding connections open (checked every second).
   */
  RECEIVE_TIMEOUT_MS: integer(1_000, 600_000).default(10_000),
  /** Inference requests in progress per API version at most (waiting or running); beyond it → 429 at once. */
  MAX_IN_FLIGHT: integer(1, 1_000_000).default(512),
  /** Serve Prometheus metrics at /metrics. */
  METRICS_ENABLED: bool.default(true),
  /** API keys accepted on the inference routes (comma-separated); none here or in API_KEYS_FILE = no authentication. */
  API_KEYS: z
    .string()
    .default('')
    .refine((value) => list(value).every((key) => key.length >= MIN_API_KEY_LENGTH), {
      message: `every key must have at least ${MIN_API_KEY_LENGTH} characters`,
    }),
  /** File with one API key per line (a mounted Secret); read at start-up, added to API_KEYS. */
  API_KEYS_FILE: z.string().default(''),
  /** With API keys: require one on /metrics too (health probes always stay open). */
  METRICS_REQUIRE_API_KEY: bool.default(false),
  /** Requests per client IP per RATE_LIMIT_WINDOW_MS on the inference routes; 0 = no rate limit. */
  RATE_LIMIT: integer(0, 10_000_000).default(0),
  RATE_LIMIT_WINDOW_MS: integer(1, 3_600_000).default(60_000),
  /** Origins allowed by CORS (comma-separated, or * for any); empty = no CORS headers. */
  CORS_ORIGINS: z.string().default(''),
  /** Trust X-Forwarded-For from this many proxies in front (client IPs for rate limits and logs); 0 = none. */
  TRUST_PROXY_HOPS: integer(0, 10).default(0),

  /** Dynamic batching: gather concurrent requests into one model call (v1 and v2). */
  BATCHING_ENABLED: bool.default(true),
  /**
   * Most sentences in one model call. 8 measured better than 32 on the bundled model at 64 connections (more
   * requests/s, lower p99, less CPU per request: smaller batches keep every worker busy); raise it for a model whose
   * runtime gains more from large batches.
   */
  BATCH_MAX_SIZE: integer(1, 4096).default(8),
  /** How long a free model waits for more sentences (ms, fractions allowed); 0 = run at once. */
  BATCH_MAX_WAIT_MS: numeric().min(0).max(1000).default(0),
  /** Sentences waiting per API version at most; beyond it requests get 429 at once. */
  BATCH_QUEUE_LIMIT: integer(1, 1_000_000).default(1024),
  /** Model calls in flight at once for v1 (0 = one per ONNX Runtime worker) and v2 (TF Serving). */
  BATCH_CONCURRENCY_V1: integer(0, 64).default(0),
  BATCH_CONCURRENCY_V2: integer(1, 256).default(4),
  /** Group sentences of similar length into a batch (less padding). */
  BATCH_GROUP_BY_LENGTH: bool.default(true),
  /** With grouping: most padding per batch, as a share of its real tokens. */
  BATCH_MAX_PADDING: numeric().min(0).max(100).default(0.5),

  /** v2: TensorFlow Serving's REST base URL (its --rest_api_port, 8501 in the official image). */
  TF_SERVING_URL: z.url({ protocol: /^https?$/ }).default('http://localhost:8501'),
  /** v2: TensorFlow Serving model name (its --model_name). */
  TF_SERVING_MODEL_NAME: z
    .string()
    .regex(/^[^/:]+$/, 'must not contain "/" or ":"')
    .default('sentiment_analysis'),
  /** v2: pin a version (number); empty = TF Serving's latest. Exclusive with TF_SERVING_MODEL_LABEL. */
  TF_SERVING_MODEL_VERSION: z
    .string()
    .regex(/^\d+$/, 'must be a version number such as 1')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  /** v2: route to a version label (e.g. stable, canary) defined in TF Serving's model config. */
  TF_SERVING_MODEL_LABEL: z
    .string()
    .regex(/^[A-Za-z0-9_]+$/, 'must be letters, digits or _')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  /** v2: signature to call. */
  TF_SERVING_SIGNATURE: z.string().min(1).default('serving_default'),
  /** v2: timeout of one call to TF Serving (ms); below TF Serving's own 30 s default. */
  TF_SERVING_TIMEOUT_MS: integer(1, 120_000).default(5000),
  /** v2: extra attempts after a connection failure or a 503 from TF Serving (predict is idempotent). */
  TF_SERVING_RETRIES: integer(0, 10).default(2),
  /**
   * v2: budget of opening a connection to TF Serving, DNS lookup included (ms); past it v2 answers 503 at once (not
   * retried). Raise it where name resolution is slow.
   */
  TF_SERVING_CONNECT_TIMEOUT_MS: integer(1, 60_000).default(500),
  /** v2: how often the model's status is polled (ms); readiness of v2 follows it. */
  TF_SERVING_STATUS_INTERVAL_MS: integer(100, 600_000).default(5000),
  /**
   * v2 circuit breaker: opens when a 10 s window holds at least this many calls and at least
   * TF_SERVING_CIRCUIT_ERROR_PERCENT of them failed; while open, v2 answers 503 at once. 0 = no breaker.
   */
  TF_SERVING_CIRCUIT_MIN_CALLS: integer(0, 100_000).default(5),
  TF_SERVING_CIRCUIT_ERROR_PERCENT: integer(1, 100).default(50),
  /** v2 circuit breaker: how long it stays open before one trial call probes TF Serving again (ms). */
  TF_SERVING_CIRCUIT_RESET_MS: integer(100, 600_000).default(5000),
});

export type Env = z.infer<typeof envSchema>;

export interface AppConfig {
  readonly server: {
    readonly port: number;
    readonly host: string;
    readonly bodyLimit: number;
    readonly docs: boolean;
    readonly receiveTimeoutMs: number;
  };
  readonly log: { readonly level: Env['LOG_LEVEL'] };
  readonly memory: { readonly heapGrowingPercent: number };
  readonly model: { readonly dir: string; readonly version: string | undefined; readonly tokenizerFastPath: boolean };
  readonly onnx: {
    readonly execution: 'workers' | 'inline';
    readonly workers: number;
    readonly intraOpThreads: number;
    readonly interOpThreads: number;
    readonly memoryArena: boolean;
    readonly precision: 'fp32' | 'int8';
  };
  readonly limits: { readonly maxSentenceLength: number; readonly maxBatchSize: number };
  readonly shutdown: { readonly delayMs: number; readonly timeoutMs: number };
  readonly requests: { readonly timeoutMs: number; readonly maxInFlight: number };
  readonly metrics: { readonly enabled: boolean };
  readonly security: {
    /** Accepted API keys; empty = authentication off. */
    readonly apiKeys: readonly string[];
    readonly metricsRequireApiKey: boolean;
    readonly rateLimit: { readonly limit: number; readonly windowMs: number };
    readonly corsOrigins: readonly string[];
    readonly trustProxyHops: number;
  };
  readonly batching: {
    readonly enabled: boolean;
    readonly maxBatchSize: number;
    readonly maxWaitMs: number;
    readonly maxQueueRows: number;
    readonly concurrencyV1: number;
    readonly concurrencyV2: number;
    readonly groupByLength: boolean;
    readonly maxPadding: number;
  };
  readonly tfServing: {
    readonly url: string;
    readonly modelName: string;
    readonly version: string | undefined;
    readonly label: string | undefined;
    readonly signature: string;
    readonly timeoutMs: number;
    readonly retries: number;
    readonly connectTimeoutMs: number;
    readonly statusIntervalMs: number;
    readonly circuit: { readonly minCalls: number; readonly errorPercent: number; readonly resetMs: number };
  };
}

export const APP_CONFIG = 'CONFIG:APP';

/** A comma-separated list, trimmed, without empty entries. */
function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** One key per line (blank lines and # comments ignored); a key file that cannot be read is a config error. */
function readKeyFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw problem('API_KEYS_FILE', path, `cannot read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const keys = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
  if (keys.length === 0) {
    throw problem('API_KEYS_FILE', path, 'no keys in the file');
  }
  return keys;
}

/** One thing wrong at start-up: the setting (a variable, or the container's memory limit), its value, and what is wrong. */
export interface ConfigProblem {
  readonly variable: string;
  readonly value: string | null;
  readonly problem: string;
}

/** Start-up problems the user can fix in the configuration; main.ts logs them in one JSON line and exits 78. */
export class ConfigValidationError extends Error {
  override readonly name: string = 'ConfigValidationError';

  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `invalid configuration: ${problems.map((p) => `${p.variable}=${JSON.stringify(p.value)}: ${p.problem}`).join('; ')}`,
    );
  }
}

const problem = (variable: string, value: string | null | undefined, what: string) =>
  new ConfigValidationError([{ variable, value: value ?? null, problem: what }]);

/**
 * Parses the environment; on failure the error names every bad variable with its value and what is expected.
 */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const parsed = envSchema
    .refine((e) => !(e.TF_SERVING_MODEL_VERSION && e.TF_SERVING_MODEL_LABEL), {
      message: 'set TF_SERVING_MODEL_VERSION or TF_SERVING_MODEL_LABEL, not both',
      path: ['TF_SERVING_MODEL_LABEL'],
    })
    .safeParse(env);
  if (!parsed.success) {
    throw new ConfigValidationError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0]);
        return { variable, value: env[variable] ?? null, problem: issue.message };
      }),
    );
  }
  const e = parsed.data;
  // API_KEYS' own keys are checked by the schema, with every other variable; the file's keys here.
  const fileKeys = e.API_KEYS_FILE ? readKeyFile(e.API_KEYS_FILE) : [];
  const apiKeys = [...list(e.API_KEYS), ...fileKeys];
  if (fileKeys.some((key) => key.length < MIN_API_KEY_LENGTH)) {
    throw problem('API_KEYS_FILE', e.API_KEYS_FILE, `every key must have at least ${MIN_API_KEY_LENGTH} characters`);
  }
  return {
    server: {
      port: e.PORT,
      host: e.HOST,
      bodyLimit: e.BODY_LIMIT,
      docs: e.DOCS_ENABLED,
      receiveTimeoutMs: e.RECEIVE_TIMEOUT_MS,
    },
    log: { level: e.LOG_LEVEL },
    memory: { heapGrowingPercent: e.HEAP_GROWING_PERCENT },
    model: { dir: e.MODEL_DIR, version: e.MODEL_VERSION, tokenizerFastPath: e.TOKENIZER_FAST_PATH },
    onnx: {
      execution: e.ONNX_EXECUTION,
      workers: e.ONNX_WORKERS,
      intraOpThreads: e.ONNX_INTRA_OP_THREADS,
      interOpThreads: e.ONNX_INTER_OP_THREADS,
      memoryArena: e.ONNX_MEMORY_ARENA,
      precision: e.ONNX_PRECISION,
    },
    limits: { maxSentenceLength: e.MAX_SENTENCE_LENGTH, maxBatchSize: e.MAX_BATCH_SIZE },
    shutdown: { delayMs: e.SHUTDOWN_DELAY_MS, timeoutMs: e.SHUTDOWN_TIMEOUT_MS },
    requests: { timeoutMs: e.REQUEST_TIMEOUT_MS, maxInFlight: e.MAX_IN_FLIGHT },
    metrics: { enabled: e.METRICS_ENABLED },
    security: {
      apiKeys,
      metricsRequireApiKey: e.METRICS_REQUIRE_API_KEY,
      rateLimit: { limit: e.RATE_LIMIT, windowMs: e.RATE_LIMIT_WINDOW_MS },
      corsOrigins: list(e.CORS_ORIGINS),
      trustProxyHops: e.TRUST_PROXY_HOPS,
    },
    batching: {
      enabled: e.BATCHING_ENABLED,
      maxBatchSize: e.BATCH_MAX_SIZE,
      maxWaitMs: e.BATCH_MAX_WAIT_MS,
      maxQueueRows: e.BATCH_QUEUE_LIMIT,
      concurrencyV1: e.BATCH_CONCURRENCY_V1,
      concurrencyV2: e.BATCH_CONCURRENCY_V2,
      groupByLength: e.BATCH_GROUP_BY_LENGTH,
      maxPadding: e.BATCH_MAX_PADDING,
    },
    tfServing: {
      url: e.TF_SERVING_URL.replace(/\/+$/, ''),
      modelName: e.TF_SERVING_MODEL_NAME,
      version: e.TF_SERVING_MODEL_VERSION,
      label: e.TF_SERVING_MODEL_LABEL,
      signature: e.TF_SERVING_SIGNATURE,
      timeoutMs: e.TF_SERVING_TIMEOUT_MS,
      retries: e.TF_SERVING_RETRIES,
      connectTimeoutMs: e.TF_SERVING_CONNECT_TIMEOUT_MS,
      statusIntervalMs: e.TF_SERVING_STATUS_INTERVAL_MS,
      circuit: {
        minCalls: e.TF_SERVING_CIRCUIT_MIN_CALLS,
        errorPercent: e.TF_SERVING_CIRCUIT_ERROR_PERCENT,
        resetMs: e.TF_SERVING_CIRCUIT_RESET_MS,
      },
    },
  };
}
