import type { TokenizedBatch } from '../model/tokenized-batch.js';
import type { InferenceStrategy, Logits, ServedModel, StrategyState } from './inference-strategy.interface.js';

/** What one API version's request path reports (metrics); every method optional. */
export interface InferenceObserver {
  /** Tokenizing one request's sentences took `seconds`; `tokens` is their real (unpadded) token count. */
  tokenization?(seconds: number, tokens: number): void;
  /** A request waited `seconds` in the batching queue before its model call started. */
  queueWait?(seconds: number): void;
  /** Sentences now waiting in the batching queue. */
  queueDepth?(rows: number): void;
  /** One model call: its rows, padded and real tokens, and how long it took. */
  modelCall?(rows: number, paddedTokens: number, realTokens: number, seconds: number): void;
}

/** Reports every model call of `inner` (rows, tokens, time) to `observer`. */
export class ObservedStrategy implements InferenceStrategy {
  constructor(
    private readonly inner: InferenceStrategy,
    private readonly observer: InferenceObserver,
  ) {}

  get model(): ServedModel {
    return this.inner.model;
  }

  state(): StrategyState {
    return this.inner.state();
  }

  checkHealth(): Promise<StrategyState> {
    return this.inner.checkHealth();
  }

  async infer(batch: TokenizedBatch, signal?: AbortSignal): Promise<Logits> {
    const started = performance.now();
    try {
      return await this.inner.infer(batch, signal);
    } finally {
      const real = batch.lengths.reduce((sum, length) => sum + length, 0);
      this.observer.modelCall?.(
        batch.batchSize,
        batch.batchSize * batch.sequenceLength,
        real,
        (performance.now() - started) / 1000,
      );
    }
  }
}
