import axios, { type AxiosError, type AxiosInstance, type AxiosResponse } from 'axios';
import { type AgentOptions, Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  type DomainError,
  UpstreamFailedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from '../../errors/index.js';
import type { ZodType } from 'zod';
import {
  type TfServingModelMetadata,
  type TfServingModelStatus,
  type TfServingPredictRequest,
  type TfServingPredictResponse,
  errorBodySchema,
  modelMetadataSchema,
  modelStatusSchema,
  predictResponseSchema,
} from './tf-serving.types.js';
import { CONNECT_TIMEOUT, CONNECTION_FAILURES, withConnectTimeout } from './tf-serving.connection.js';

export const TF_SERVING = 'TensorFlow Serving';

export interface TfServingClientOptions {
  /** REST base URL, e.g. http://tf-serving:8501 (no trailing slash). */
  readonly url: string;
  readonly modelName: string;
  /** Pinned version, or a version label; neither = TF Serving's latest. */
  readonly version?: string | undefined;
  readonly label?: string | undefined;
  /** Budget of one call, retries included (ms). */
  readonly timeoutMs: number;
  /** Extra attempts after a connection failure or a 503. */
  readonly retries: number;
  /**
   * Budget of opening a connection, DNS lookup included (ms): past it TF Serving counts as unreachable (503 at
   * once, not retried).
   */
  readonly connectTimeoutMs: number;
}

const NON_FINITE_TOKEN = /(-?Infinity|NaN)/y;

/** Largest TF Serving answer read (bytes). */
export const MAX_RESPONSE_BYTES = 4 * 2 ** 20;
/** Most characters of TF Serving's own error text passed on to the client. */
const MAX_DETAIL_CHARS = 500;

/** TF Serving's 404 texts for a model or version that is not loaded (predict/metadata, then status). */
const NOT_LOADED = /^(Servable not found for request|Could not find (any versions of model|version \d+ of model))/;

const truncate = (text: string): string =>
  text.length <= MAX_DETAIL_CHARS ? text : `${text.slice(0, MAX_DETAIL_CHARS)}… (${text.length} characters)`;

/**
 * JSON.parse that also accepts the bare `NaN`, `Infinity` and `-Infinity` TF Serving writes for non-finite
 * floats (they become null, which the caller rejects as an invalid answer).
 */
export function parseTfServingJson(text: string): unknown {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[++i] ?? '';
      } else if (c === '"') {
        inString = false;
      }
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    NON_FINITE_TOKEN.lastIndex = i;
    const match = NON_FINITE_TOKEN.exec(text);
    if (match) {
      out += 'null';
      i += match[0].length - 1;
      continue;
    }
    out += c;
  }
  return JSON.parse(out);
}

/**
 * Typed client for TensorFlow Serving's REST API. One keep-alive connection pool; every call has an explicit
 * deadline (retries included); failures become domain errors (never a raw AxiosError): unreachable or 503 →
 * `UpstreamUnavailableError`, no answer in time or TF Serving's own 504 → `UpstreamTimeoutError`, any other
 * error status or an unparsable body → `UpstreamFailedError` carrying TF Serving's `error` text. A model that is
 * not loaded (404 "Servable not found" / "Could not find ...") counts as unavailable. Only connection failures and 503s are retried,
 * with full-jitter exponential backoff inside the deadline: predict has no side effects, so a retry is safe.
 */
export class TfServingClient {
  private readonly http: AxiosInstance;
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;

  constructor(
    readonly options: TfServingClientOptions,
    private readonly random: () => number = Math.random,
    /** Socket options for the connection pool (tests give it a name lookup of their own). */
    agentOptions: AgentOptions = {},
  ) {
    const pool = { ...agentOptions, keepAlive: true, maxSockets: 64 };
    this.httpAgent = withConnectTimeout(new HttpAgent(pool), options.connectTimeoutMs);
    this.httpsAgent = withConnectTimeout(new HttpsAgent(pool), options.connectTimeoutMs);
    this.http = axios.create({
      baseURL: options.url,
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      // Bodies are parsed here (TF Serving may write NaN), and every status is handled below.
      responseType: 'text',
      transformResponse: (data: unknown) => data,
      validateStatus: () => true,
      maxRedirects: 0,
      // Answers are small (logits, status, metadata); a larger one is refused as it streams in, not buffered.
      maxContentLength: MAX_RESPONSE_BYTES,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    });
  }

  /** `/v1/models/{name}` plus `/versions/{v}` or `/labels/{l}` when configured. */
  get modelPath(): string {
    const base = `/v1/models/${encodeURIComponent(this.options.modelName)}`;
    if (this.options.version !== undefined) {
      return `${base}/versions/${this.options.version}`;
    }
    return this.options.label !== undefined ? `${base}/labels/${encodeURIComponent(this.options.label)}` : base;
  }

  /** Status of the model's versions (a label is not resolved by this endpoint: all versions are listed). */
  status(): Promise<TfServingModelStatus> {
    const base = `/v1/models/${encodeURIComponent(this.options.modelName)}`;
    const path = this.options.version !== undefined ? `${base}/versions/${this.options.version}` : base;
    return this.call(modelStatusSchema, 'GET', path);
  }

  /** Resolved model spec (the version a label or "latest" points at) and the signatures. */
  metadata(): Promise<TfServingModelMetadata> {
    return this.call(modelMetadataSchema, 'GET', `${this.modelPath}/metadata`);
  }

  /** `signal` cancels the HTTP call when the caller gives up (its reason is what rejects). */
  predict(request: TfServingPredictRequest, signal?: AbortSignal): Promise<TfServingPredictResponse> {
    return this.call(predictResponseSchema, 'POST', `${this.modelPath}:predict`, request, signal);
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private async call<T>(
    schema: ZodType<T>,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    const deadline = Date.now() + this.options.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new UpstreamTimeoutError(TF_SERVING, this.options.timeoutMs);
      }
      let error: DomainError;
      // A connection that did not open in time is not retried: the host is gone or its name does not resolve.
      let connectTimedOut = false;
      try {
        // The budget covers the whole answer: axios' own `timeout` is only an idle-socket timer in Node, so a body
        // dripping in a byte at a time would never reach it.
        const budget = AbortSignal.timeout(remaining);
        const response = await this.http.request<string>({
          method,
          url: path,
          data: body,
          signal: signal === undefined ? budget : AbortSignal.any([signal, budget]),
        });
        const result = this.read(schema, response);
        if (!(result instanceof Error)) {
          return result;
        }
        error = result;
      } catch (thrown) {
        signal?.throwIfAborted();
        connectTimedOut = (thrown as AxiosError).code === CONNECT_TIMEOUT;
        error = this.fromTransportError(thrown as AxiosError, remaining);
      }
      const retryable = error instanceof UpstreamUnavailableError && !connectTimedOut;
      if (!retryable || attempt >= this.options.retries) {
        throw error;
      }
      const backoff = this.random() * Math.min(1000, 25 * 2 ** attempt);
      if (Date.now() + backoff >= deadline) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, backoff));
    }
  }

  /** The parsed and validated body of a 200, or the domain error an error status stands for. */
  private read<T>(schema: ZodType<T>, response: AxiosResponse<string>): T | DomainError {
    const text = typeof response.data === 'string' ? response.data : '';
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? parseTfServingJson(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (response.status === 200) {
      if (parsed === undefined) {
        return new UpstreamFailedError(TF_SERVING, 'bad_response', undefined, `unparsable body: ${text.slice(0, 200)}`);
      }
      const valid = schema.safeParse(parsed);
      return valid.success
        ? valid.data
        : new UpstreamFailedError(
            TF_SERVING,
            'bad_response',
            undefined,
            `unexpected body: ${valid.error.issues[0]?.message ?? ''}`,
          );
    }
    const errorBody = errorBodySchema.safeParse(parsed);
    const detail = errorBody.success ? truncate(errorBody.data.error) : text.slice(0, 200) || `HTTP ${response.status}`;
    if (response.status === 503 || (response.status === 404 && NOT_LOADED.test(detail))) {
      return new UpstreamUnavailableError(TF_SERVING, 'unavailable', detail);
    }
    if (response.status === 504) {
      return new UpstreamTimeoutError(TF_SERVING, this.options.timeoutMs);
    }
    return new UpstreamFailedError(TF_SERVING, 'http_error', response.status, detail);
  }

  private fromTransportError(error: AxiosError, timeoutMs: number): DomainError {
    const code = error.code ?? '';
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ERR_CANCELED') {
      return new UpstreamTimeoutError(TF_SERVING, Math.min(timeoutMs, this.options.timeoutMs));
    }
    if (CONNECTION_FAILURES.has(code)) {
      return new UpstreamUnavailableError(TF_SERVING, 'unreachable', `${code} ${this.options.url}`);
    }
    const detail = /maxContentLength/.test(error.message)
      ? `an answer larger than ${MAX_RESPONSE_BYTES} bytes`
      : code || error.message;
    return new UpstreamFailedError(TF_SERVING, 'bad_response', undefined, detail);
  }
}
