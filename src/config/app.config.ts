import { z } from 'zod';
import { ConfigValidationError } from './config-validation.error.js';
import { bool, integer, keyFile, keysLongEnough, list, numeric, optionalMatch, SHORT_KEY } from './env-values.js';

export * from './config-validation.error.js';
export { MIN_API_KEY_LENGTH } from './env-values.js';

/** A setting: the environment variable it is read from, and its schema (type, limits, default, transform). */
interface Setting<S extends z.ZodType = z.ZodType> {
  readonly variable: string;
  readonly schema: S;
}
const env = <S extends z.ZodType>(variable: string, schema: S): Setting<S> => ({ variable, schema });

/**
 * Every setting the service reads, by section. AppConfig's type, the environment's schema and the mapping between
 * them all derive from this object, so a new setting is one line here (and a row in docs/configuration.md, which a
 * test compares with it). Validated once at start-up; nothing outside src/config/ reads process.env.
 */
const SETTINGS = {
  server: {
    port: env('PORT', integer(1, 65535).default(5001)),
    host: env('HOST', z.string().min(1).default('0.0.0.0')),
    /** Largest request body (bytes, or a size such as 1mb). */
    bodyLimit: env(
      'BODY_LIMIT',
      z
        .string()
        .regex(/^\d+(b|kb|mb)?$/i, 'must be a size such as 1048576, 512kb or 1mb')
        .default('1mb')
        .transform((size) => {
          const [, amount, unit] = /^(\d+)(b|kb|mb)?$/i.exec(size)!;
          return Number(amount) * ({ kb: 1024, mb: 1024 * 1024 }[unit?.toLowerCase() ?? ''] ?? 1);
        }),
    ),
    /** Serve Swagger UI at /docs and the document at /docs-json. */
    docs: env('DOCS_ENABLED', bool.default(true)),
    /**
     * Time a client has to send a whole request, headers and body (ms); past it → 408 and the connection is closed.
     * Keeps slow or stalled uploads from holding connections open (checked every second).
     */
    receiveTimeoutMs: env('RECEIVE_TIMEOUT_MS', integer(1_000, 600_000).default(10_000)),
  },
  log: {
    level: env('LOG_LEVEL', z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  },
  /**
   * How far V8 lets the main thread's heap grow past its live size before a full collection (percent); 0 = V8's own
   * factor (up to 4x under load: more memory for slightly less garbage collection).
   */
  memory: { heapGrowingPercent: env('HEAP_GROWING_PERCENT', integer(0, 1000).default(100)) },
  model: {
    /** Folder holding the numeric version folders of one model (`<MODEL_DIR>/<version>/config.json`, ...). */
    dir: env('MODEL_DIR', z.string().min(1).default('models/sentiment_analysis')),
    /** Version folder v1 serves; empty = the highest number (TensorFlow Serving's default policy). */
    version: env('MODEL_VERSION', optionalMatch(/^\d+$/, 'must be a version folder number such as 1')),
    /**
     * Tokenize Latin-script text with tokenizers.js when it matches the Rust reference on every such character
     * (checked at start-up); false = the reference for every sentence. Measured on Fastify (docs/tuning/
     * tokenizer-fast-path.md, 5 alternating rounds at 64 connections): 3,427 vs 2,764 requests/s, p99 34 vs 43 ms,
     * 0.42 vs 0.51 ms of server CPU per request; so it stays on.
     */
    tokenizerFastPath: env('TOKENIZER_FAST_PATH', bool.default(true)),
  },
  onnx: {
    /**
     * Where v1 runs ONNX Runtime: in worker threads (the default; inference never blocks the event loop and several
     * batches run at once) or inline on the main thread.
     */
    execution: env('ONNX_EXECUTION', z.enum(['workers', 'inline']).default('workers')),
    /**
     * With workers and a model under 64 MiB: one more single-threaded session on the main thread, for a small batch
     * that arrives while nothing else is waiting or running (no hop to a worker and back: src/inference/onnx/
     * onnx-idle-inline.ts).
     */
    idleInline: env('ONNX_IDLE_INLINE', bool.default(true)),
    /** Worker threads, each with its own session; 0 = one per CPU this container may use (cgroup quota aware). */
    workers: env('ONNX_WORKERS', integer(0, 64).default(0)),
    /** ONNX Runtime intra-op threads per session; 0 = the usable CPUs divided among the sessions. */
    intraOpThreads: env('ONNX_INTRA_OP_THREADS', integer(0, 256).default(0)),
    interOpThreads: env('ONNX_INTER_OP_THREADS', integer(1, 256).default(1)),
    /** ONNX Runtime's CPU memory arena (faster allocations, but holds the largest batch's memory). */
    memoryArena: env('ONNX_MEMORY_ARENA', bool.default(true)),
    /**
     * Which file of the version folder v1 serves: model.onnx (fp32), or model.int8.onnx written by
     * `npm run model:quantize` (int8 weights, about a quarter of the size and memory, faster on CPUs).
     */
    precision: env('ONNX_PRECISION', z.enum(['fp32', 'int8']).default('fp32')),
  },
  limits: {
    /** Longest accepted sentence, in characters (longer → 400). Token-level truncation is separate. */
    maxSentenceLength: env('MAX_SENTENCE_LENGTH', integer(1, 1_000_000).default(2000)),
    /** Most sentences in one batch request. */
    maxBatchSize: env('MAX_BATCH_SIZE', integer(1, 4096).default(64)),
  },
  shutdown: {
    /**
     * On SIGTERM, how long readiness answers 503 before the server stops taking requests (ms), so load balancers
     * stop routing to this pod first.
     */
    delayMs: env('SHUTDOWN_DELAY_MS', integer(0, 600_000).default(0)),
    /**
     * After SHUTDOWN_DELAY_MS, how long in-flight and queued requests may take to finish (ms) before the remaining
     * connections are closed; keep SHUTDOWN_DELAY_MS + this below the pod's terminationGracePeriodSeconds.
     */
    timeoutMs: env('SHUTDOWN_TIMEOUT_MS', integer(0, 600_000).default(20_000)),
  },
  requests: {
    /**
     * Deadline of one inference request (ms), queue wait included; past it → 504. A client may shorten it with the
     * X-Request-Timeout-Ms header, never lengthen it.
     */
    timeoutMs: env('REQUEST_TIMEOUT_MS', integer(1, 600_000).default(10_000)),
    /** Inference requests in progress per API version at most (waiting or running); beyond it → 429 at once. */
    maxInFlight: env('MAX_IN_FLIGHT', integer(1, 1_000_000).default(512)),
  },
  /** Serve Prometheus metrics at /metrics. */
  metrics: { enabled: env('METRICS_ENABLED', bool.default(true)) },
  security: {
    /** API keys accepted on the inference routes (comma-separated); with API_KEYS_FILE's, see loadConfig. */
    apiKeys: env('API_KEYS', list.default([]).refine(keysLongEnough, SHORT_KEY)),
    /** File with one API key per line (a mounted Secret); read at start-up, added to API_KEYS. */
    fileApiKeys: env('API_KEYS_FILE', keyFile),
    /** With API keys: require one on /metrics too (health probes always stay open). */
    metricsRequireApiKey: env('METRICS_REQUIRE_API_KEY', bool.default(false)),
    rateLimit: {
      /** Requests per client IP per RATE_LIMIT_WINDOW_MS on the inference routes; 0 = no rate limit. */
      limit: env('RATE_LIMIT', integer(0, 10_000_000).default(0)),
      windowMs: env('RATE_LIMIT_WINDOW_MS', integer(1, 3_600_000).default(60_000)),
    },
    /** Origins allowed by CORS (comma-separated, or * for any); empty = no CORS headers. */
    corsOrigins: env('CORS_ORIGINS', list.default([])),
    /** Trust X-Forwarded-For from this many proxies in front (client IPs for rate limits and logs); 0 = none. */
    trustProxyHops: env('TRUST_PROXY_HOPS', integer(0, 10).default(0)),
  },
  /** Dynamic batching: gather concurrent requests into one model call (v1 and v2). */
  batching: {
    enabled: env('BATCHING_ENABLED', bool.default(true)),
    /**
     * Most sentences in one model call. 8 measured better than 32 on the bundled model at 64 connections (more
     * requests/s, lower p99, less CPU per request: smaller batches keep every worker busy); raise it for a model whose
     * runtime gains more from large batches.
     */
    maxBatchSize: env('BATCH_MAX_SIZE', integer(1, 4096).default(8)),
    /** How long a free model waits for more sentences (ms, fractions allowed); 0 = run at once. */
    maxWaitMs: env('BATCH_MAX_WAIT_MS', numeric().min(0).max(1000).default(0)),
    /** Sentences waiting per API version at most; beyond it requests get 429 at once. */
    maxQueueRows: env('BATCH_QUEUE_LIMIT', integer(1, 1_000_000).default(1024)),
    /** Model calls in flight at once for v1 (0 = one per ONNX Runtime worker) and v2 (TF Serving). */
    concurrencyV1: env('BATCH_CONCURRENCY_V1', integer(0, 64).default(0)),
    concurrencyV2: env('BATCH_CONCURRENCY_V2', integer(1, 256).default(4)),
    /** Group sentences of similar length into a batch (less padding). */
    groupByLength: env('BATCH_GROUP_BY_LENGTH', bool.default(true)),
    /** With grouping: most padding per batch, as a share of its real tokens. */
    maxPadding: env('BATCH_MAX_PADDING', numeric().min(0).max(100).default(0.5)),
  },
  /** v2: TensorFlow Serving. */
  tfServing: {
    /** REST base URL (its --rest_api_port, 8501 in the official image). */
    url: env(
      'TF_SERVING_URL',
      z
        .url({ protocol: /^https?$/ })
        .default('http://localhost:8501')
        .transform((url) => url.replace(/\/+$/, '')),
    ),
    /** Model name (its --model_name). */
    modelName: env(
      'TF_SERVING_MODEL_NAME',
      z
        .string()
        .regex(/^[^/:]+$/, 'must not contain "/" or ":"')
        .default('sentiment_analysis'),
    ),
    /** Pin a version (number); empty = TF Serving's latest. Exclusive with TF_SERVING_MODEL_LABEL. */
    version: env('TF_SERVING_MODEL_VERSION', optionalMatch(/^\d+$/, 'must be a version number such as 1')),
    /** Route to a version label (e.g. stable, canary) defined in TF Serving's model config. */
    label: env('TF_SERVING_MODEL_LABEL', optionalMatch(/^[A-Za-z0-9_]+$/, 'must be letters, digits or _')),
    signature: env('TF_SERVING_SIGNATURE', z.string().min(1).default('serving_default')),
    /** Timeout of one call to TF Serving (ms); below TF Serving's own 30 s default. */
    timeoutMs: env('TF_SERVING_TIMEOUT_MS', integer(1, 120_000).default(5000)),
    /** Extra attempts after a connection failure or a 503 from TF Serving (predict is idempotent). */
    retries: env('TF_SERVING_RETRIES', integer(0, 10).default(2)),
    /**
     * Budget of opening a connection to TF Serving, DNS lookup included (ms); past it v2 answers 503 at once (not
     * retried). Raise it where name resolution is slow.
     */
    connectTimeoutMs: env('TF_SERVING_CONNECT_TIMEOUT_MS', integer(1, 60_000).default(500)),
    /** How often the model's status is polled (ms); readiness of v2 follows it. */
    statusIntervalMs: env('TF_SERVING_STATUS_INTERVAL_MS', integer(100, 600_000).default(5000)),
    /**
     * Circuit breaker: opens when a 10 s window holds at least minCalls calls and at least errorPercent of them
     * failed; while open, v2 answers 503 at once, and after resetMs one trial call probes TF Serving again.
     * TF_SERVING_CIRCUIT_MIN_CALLS=0 = no breaker.
     */
    circuit: {
      minCalls: env('TF_SERVING_CIRCUIT_MIN_CALLS', integer(0, 100_000).default(5)),
      errorPercent: env('TF_SERVING_CIRCUIT_ERROR_PERCENT', integer(1, 100).default(50)),
      resetMs: env('TF_SERVING_CIRCUIT_RESET_MS', integer(100, 600_000).default(5000)),
    },
  },
};

type Settings = { readonly [key: string]: Setting | Settings };
type ConfigOf<T> = { readonly [K in keyof T]: T[K] extends Setting<infer S> ? Readonly<z.output<S>> : ConfigOf<T[K]> };

/** The validated configuration; `security.apiKeys` holds API_KEYS' keys and API_KEYS_FILE's. */
export type AppConfig = ConfigOf<typeof SETTINGS>;

export const APP_CONFIG = 'CONFIG:APP';

const isSetting = (node: Setting | Settings): node is Setting => node.schema instanceof z.ZodType;
const settings = (node: Settings): Setting[] =>
  Object.values(node).flatMap((child) => (isSetting(child) ? [child] : settings(child)));

/** Every environment variable the service reads, with its schema. */
export const envSchema = z.object(Object.fromEntries(settings(SETTINGS).map((s) => [s.variable, s.schema])));

/** The sections of SETTINGS, each setting replaced by its parsed value. */
function mapSettings(node: Settings, values: Record<string, unknown>): unknown {
  return Object.fromEntries(
    Object.entries(node).map(([key, child]) => [
      key,
      isSetting(child) ? values[child.variable] : mapSettings(child, values),
    ]),
  );
}

/**
 * Parses the environment; on failure the error names every bad variable with its value and what is expected.
 */
export function loadConfig(variables: Record<string, string | undefined>): AppConfig {
  const parsed = envSchema
    .refine((e) => !(e.TF_SERVING_MODEL_VERSION && e.TF_SERVING_MODEL_LABEL), {
      message: 'set TF_SERVING_MODEL_VERSION or TF_SERVING_MODEL_LABEL, not both',
      path: ['TF_SERVING_MODEL_LABEL'],
    })
    .safeParse(variables);
  if (!parsed.success) {
    throw new ConfigValidationError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0]);
        return { variable, value: variables[variable] ?? null, problem: issue.message };
      }),
    );
  }
  const config = mapSettings(SETTINGS, parsed.data) as AppConfig;
  const { apiKeys, fileApiKeys } = config.security;
  return { ...config, security: { ...config.security, apiKeys: [...apiKeys, ...fileApiKeys] } };
}
