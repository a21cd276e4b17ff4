import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ModelNotReadyError, type UpstreamFailure } from '../errors/index.js';
// Types from the leaf files, not the inference barrel: the barrel re-exports the TF Serving module, which injects this
// service (an import cycle; `npm run check:cycles` fails on any).
import type { InferenceObserver } from '../inference/inference-observer.js';
import type { ServedModel } from '../inference/inference-strategy.interface.js';
import type { CircuitBreaker, CircuitState } from '../inference/tf-serving/circuit-breaker.js';

/** Seconds: sub-millisecond steps where the model and the queue live, up to the longest deadline. */
const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10,
];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const TOKEN_BUCKETS = [4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];
const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half_open', 'disabled'];

/** What /metrics reads at scrape time from one API version. */
export interface ApiSource {
  readonly served: ServedModel;
  readonly inFlight: number;
}

/**
 * The service's Prometheus metrics, in a registry of its own (several apps in one process — the tests — never
 * share series). Names follow Prometheus conventions: base units (seconds), `_total` counters, bounded labels
 * (`api_version` is 1 or 2, `route` is the matched route pattern, never the raw URL).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly apis = new Map<string, ApiSource>();
  private readonly queues = new Map<string, number>();
  private readonly circuits: CircuitBreaker[] = [];

  private readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, matched route, API version and status code',
    labelNames: ['method', 'route', 'api_version', 'status'] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to the end of the response, by method, matched route, API version and status code',
    labelNames: ['method', 'route', 'api_version', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly tokenization = new Histogram({
    name: 'sentiment_tokenization_duration_seconds',
    help: "Tokenizing one request's sentences",
    labelNames: ['api_version'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly requestTokens = new Histogram({
    name: 'sentiment_request_tokens',
    help: 'Real (unpadded) tokens per request, special tokens included',
    labelNames: ['api_version'] as const,
    buckets: TOKEN_BUCKETS,
    registers: [this.registry],
  });
  private readonly queueWait = new Histogram({
    name: 'sentiment_queue_wait_seconds',
    help: 'Time a request waited in the batching queue before its model call started',
    labelNames: ['api_version'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly inference = new Histogram({
    name: 'sentiment_inference_duration_seconds',
    help: 'One model call (a batch): ONNX Runtime run, or the TF Serving predict round trip',
    labelNames: ['api_version'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly batchSize = new Histogram({
    name: 'sentiment_batch_size',
    help: 'Sentences per model call',
    labelNames: ['api_version'] as const,
    buckets: BATCH_BUCKETS,
    registers: [this.registry],
  });
  private readonly paddedTokens = new Counter({
    name: 'sentiment_padded_tokens_total',
    help: 'Tokens sent to the model, padding included (compare with sentiment_real_tokens_total)',
    labelNames: ['api_version'] as const,
    registers: [this.registry],
  });
  private readonly realTokens = new Counter({
    name: 'sentiment_real_tokens_total',
    help: 'Real tokens sent to the model',
    labelNames: ['api_version'] as const,
    registers: [this.registry],
  });
  private readonly upstreamErrors = new Counter({
    name: 'sentiment_upstream_errors_total',
    help: 'Failed calls to a remote backend, by kind (unreachable, unavailable, timeout, http_error, bad_response, circuit_open)',
    labelNames: ['upstream', 'kind'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const apis = this.apis;
    const queues = this.queues;
    const circuits = this.circuits;
    new Gauge({
      name: 'sentiment_requests_in_flight',
      help: 'Inference requests in progress (tokenizing, queued or in a model call)',
      labelNames: ['api_version'] as const,
      registers: [this.registry],
      collect() {
        apis.forEach((source, version) => this.set({ api_version: version }, source.inFlight));
      },
    });
    new Gauge({
      name: 'sentiment_queue_rows',
      help: 'Sentences waiting in the batching queue',
      labelNames: ['api_version'] as const,
      registers: [this.registry],
      collect() {
        queues.forEach((rows, version) => this.set({ api_version: version }, rows));
      },
    });
    new Gauge({
      name: 'sentiment_model_info',
      help: 'The model each API version serves (value 1)',
      labelNames: ['api_version', 'model', 'model_version', 'backend'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        apis.forEach((source, version) => {
          let served: ServedModel;
          try {
            served = source.served;
          } catch (error) {
            // A model still loading (or failed) has no info yet; the scrape must not fail because of it.
            if (error instanceof ModelNotReadyError) {
              return;
            }
            throw error;
          }
          this.set(
            { api_version: version, model: served.name, model_version: served.version, backend: served.backend },
            1,
          );
        });
      },
    });
    new Gauge({
      name: 'sentiment_upstream_circuit_state',
      help: 'Circuit breaker in front of a remote backend: 1 for its current state, 0 for the others',
      labelNames: ['upstream', 'state'] as const,
      registers: [this.registry],
      collect() {
        for (const circuit of circuits) {
          for (const state of CIRCUIT_STATES) {
            this.set({ upstream: circuit.upstream, state }, circuit.state === state ? 1 : 0);
          }
        }
      },
    });
  }

  /** One API version, read at scrape time: its requests in flight and the model it serves. */
  watchApi(version: string, source: ApiSource): void {
    this.apis.set(version, source);
  }

  /** Reports one API version's model calls: tokenization, queue, batches. */
  observeApi(version: string): InferenceObserver {
    const labels = { api_version: version };
    return {
      tokenization: (seconds, tokens) => {
        this.tokenization.observe(labels, seconds);
        this.requestTokens.observe(labels, tokens);
      },
      queueWait: (seconds) => this.queueWait.observe(labels, seconds),
      queueDepth: (rows) => this.queues.set(version, rows),
      modelCall: (rows, padded, real, seconds) => {
        this.batchSize.observe(labels, rows);
        this.paddedTokens.inc(labels, padded);
        this.realTokens.inc(labels, real);
        this.inference.observe(labels, seconds);
      },
    };
  }

  upstreamError(upstream: string, kind: UpstreamFailure): void {
    this.upstreamErrors.inc({ upstream, kind });
  }

  watchCircuit(circuit: CircuitBreaker): void {
    this.circuits.push(circuit);
  }

  httpRequest(method: string, route: string, apiVersion: string, status: number, seconds: number): void {
    const labels = { method, route, api_version: apiVersion, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
