import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  DomainError,
  type UpstreamFailure,
  UpstreamFailedError,
  UpstreamUnavailableError,
} from '../../errors/index.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { Logits, TokenizedBatch } from '../../model/index.js';
import type { InferenceStrategy, ServedModel, StrategyState } from '../inference-strategy.interface.js';
import { type ModelInputName, inputRows, isModelInputName } from '../model-inputs.js';
import { TF_SERVING, type TfServingClient } from './tf-serving.client.js';
import type { TfServingModelMetadata, TfServingModelStatus } from './tf-serving.types.js';

export interface TfServingStrategyOptions {
  readonly signature: string;
  /** Labels the model's config.json names; TF Serving must answer one score per label. */
  readonly numLabels: number;
  readonly statusIntervalMs: number;
  /** Called with the kind of every failed predict call (metrics). */
  readonly onUpstreamError?: (failure: UpstreamFailure) => void;
}

/** What TF Serving serves, learned from its status and metadata endpoints. */
interface Resolved {
  readonly version: string;
  readonly inputs: readonly ModelInputName[];
  /** Output alias to read when the signature has several outputs. */
  readonly output: string;
  readonly outputCount: number;
}

/**
 * v2: the same model served by TensorFlow Serving, called over REST. The model's inputs and output come from
 * TF Serving's signature metadata (a DistilBERT signature has no token_type_ids), the served version from the
 * resolved model spec. TF Serving's state is polled in the background; v2 is ready while a version is
 * AVAILABLE. It never gates this pod's readiness (v1 keeps serving whatever happens to TF Serving).
 */
@Injectable()
export class TfServingStrategy implements InferenceStrategy, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TfServingStrategy.name);
  private resolved: Resolved | null = null;
  private current: StrategyState = { status: 'loading' };
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<StrategyState> | null = null;

  constructor(
    private readonly client: TfServingClient,
    private readonly options: TfServingStrategyOptions,
    /** Fails v2 fast while TF Serving keeps failing. */
    readonly breaker: CircuitBreaker = new CircuitBreaker(TF_SERVING, { minCalls: 0, errorPercent: 50, resetMs: 1000 }),
  ) {}

  onApplicationBootstrap(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.statusIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) {
      clearInterval(this.timer);
    }
    this.breaker.shutdown();
    this.client.close();
  }

  get model(): ServedModel {
    const resolved = this.resolved;
    return {
      name: this.client.options.modelName,
      version: resolved?.version ?? 'unknown',
      backend: 'tf-serving',
      inputs: resolved?.inputs ?? [],
      // TensorFlow Serving serves the fp32 SavedModel; int8 is v1's alone.
      precision: 'fp32',
    };
  }

  state(): StrategyState {
    return this.current;
  }

  /** Asks TF Serving now (readiness and dependency probes). */
  checkHealth(): Promise<StrategyState> {
    return this.refresh();
  }

  async infer(batch: TokenizedBatch, signal?: AbortSignal): Promise<Logits> {
    try {
      return await this.breaker.call(async () => {
        const resolved = this.resolved ?? (await this.refreshForRequest());
        const inputs = Object.fromEntries(resolved.inputs.map((name) => [name, inputRows(batch, name)]));
        const response = await this.client.predict({ signature_name: this.options.signature, inputs }, signal);
        return this.toLogits(response.outputs, resolved, batch.batchSize);
      });
    } catch (error) {
      if (error instanceof DomainError && 'failure' in error) {
        this.options.onUpstreamError?.(error.failure as UpstreamFailure);
      }
      throw error;
    }
  }

  /** First request before any successful poll: resolve now, or fail with why. */
  private async refreshForRequest(): Promise<Resolved> {
    const state = await this.refresh();
    if (this.resolved !== null) {
      return this.resolved;
    }
    throw (
      this.lastError ??
      new UpstreamUnavailableError(
        TF_SERVING,
        'unavailable',
        state.status === 'failed' ? state.reason : 'model not loaded',
      )
    );
  }

  private lastError: DomainError | null = null;

  /** One status + metadata round trip at a time; concurrent callers share it. */
  private refresh(): Promise<StrategyState> {
    // Not Terminus' attempt().cacheFor(): it shares only among health checks (not the poller), via a cache TTL.
    this.refreshing ??= this.poll().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async poll(): Promise<StrategyState> {
    try {
      const status = await this.client.status();
      const available = this.availableVersions(status);
      if (available.length === 0) {
        const states = status.model_version_status.map((v) => `${v.version}:${v.state}`).join(', ') || 'none';
        this.resolved = null;
        return this.set({ status: 'loading' }, `no AVAILABLE version (${states})`);
      }
      const resolved = this.resolve(await this.client.metadata());
      this.resolved = resolved;
      this.lastError = null;
      return this.set({ status: 'ready' }, `version ${resolved.version} AVAILABLE`);
    } catch (error) {
      this.resolved = null;
      if (!(error instanceof DomainError)) {
        throw error;
      }
      this.lastError = error;
      return this.set({ status: 'failed', reason: error.message }, error.message);
    }
  }

  private availableVersions(status: TfServingModelStatus): string[] {
    return status.model_version_status.filter((v) => v.state === 'AVAILABLE').map((v) => v.version);
  }

  /** Signature inputs and output, checked against what the tokenizer provides and config.json's labels. */
  private resolve(metadata: TfServingModelMetadata): Resolved {
    const signature = metadata.metadata.signature_def.signature_def[this.options.signature];
    if (!signature) {
      throw new UpstreamFailedError(
        TF_SERVING,
        'bad_response',
        undefined,
        `no signature "${this.options.signature}" in the model metadata`,
      );
    }
    const inputs = Object.keys(signature.inputs ?? {}).sort();
    const unsupported = inputs.filter((name) => !isModelInputName(name));
    if (unsupported.length > 0 || !inputs.includes('input_ids')) {
      throw new UpstreamFailedError(
        TF_SERVING,
        'bad_response',
        undefined,
        `signature "${this.options.signature}" takes [${inputs.join(', ')}]; expected input_ids with optional attention_mask and token_type_ids`,
      );
    }
    const outputs = Object.keys(signature.outputs ?? {}).sort();
    const output = outputs.includes('logits') ? 'logits' : outputs[0];
    if (output === undefined) {
      throw new UpstreamFailedError(
        TF_SERVING,
        'bad_response',
        undefined,
        `signature "${this.options.signature}" has no output`,
      );
    }
    return {
      version: metadata.model_spec.version ?? 'unknown',
      inputs: inputs as ModelInputName[],
      output,
      outputCount: outputs.length,
    };
  }

  /** `outputs` of a columnar answer → logits, checked to be `[batch, labels]` finite numbers. */
  private toLogits(outputs: unknown, resolved: Resolved, rows: number): Logits {
    const tensor =
      resolved.outputCount > 1 && typeof outputs === 'object' && outputs !== null && !Array.isArray(outputs)
        ? (outputs as Record<string, unknown>)[resolved.output]
        : outputs;
    const columns = this.options.numLabels;
    const bad = (why: string) => new UpstreamFailedError(TF_SERVING, 'bad_response', undefined, why);
    if (!Array.isArray(tensor) || tensor.length !== rows) {
      throw bad(`expected ${rows} rows of scores, got ${Array.isArray(tensor) ? tensor.length : typeof tensor}`);
    }
    const data = new Float32Array(rows * columns);
    tensor.forEach((row: unknown, r) => {
      if (!Array.isArray(row) || row.length !== columns) {
        throw bad(`expected ${columns} scores per sentence, got ${Array.isArray(row) ? row.length : typeof row}`);
      }
      row.forEach((value: unknown, c) => {
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          throw bad(`score [${r}][${c}] is ${JSON.stringify(value)}, not a finite number`);
        }
        data[r * columns + c] = value;
      });
    });
    return { data, rows, columns };
  }

  private set(state: StrategyState, detail: string): StrategyState {
    if (state.status !== this.current.status) {
      const log = { msg: 'v2 backend state', backend: 'tf-serving', status: state.status, detail };
      if (state.status === 'ready') {
        this.logger.log(log);
      } else {
        this.logger.warn(log);
      }
    }
    this.current = state;
    return state;
  }
}
