import { DomainError, QueueFullError, RequestAbortedError } from '../../errors/index.js';
import { type Logits, padRows, type TokenizedBatch } from '../../model/index.js';
import { type InferenceObserver, ObservedStrategy } from '../inference-observer.js';
import type { InferenceStrategy, ServedModel, StrategyState } from '../inference-strategy.interface.js';

export interface BatchingOptions {
  /** Rows (sentences) per model call at most. */
  readonly maxBatchSize: number;
  /**
   * How long a call may wait for more rows once the model is free (ms). 0 = run at once with whatever is queued:
   * rows still gather while the model is busy, so batches form under load without adding latency when idle.
   */
  readonly maxWaitMs: number;
  /** Rows waiting at most; beyond it a request is refused at once (QueueFullError → 429). */
  readonly maxQueueRows: number;
  /** Model calls in flight at once (ONNX Runtime: 1 uses every intra-op thread; TF Serving: several). */
  readonly concurrency: number;
  /**
   * Group rows of similar length: a batch takes the oldest row, then the queued rows (among the next
   * `lookahead` × maxBatchSize) whose length is closest to it, so short sentences do not pay for a long one.
   */
  readonly groupByLength: boolean;
  /**
   * With grouping: most padding a batch may carry, as a share of its real tokens (0.5 = at most 50% extra).
   * A row that would exceed it waits for a batch of its own length.
   */
  readonly maxPadding?: number;
}

/** What the batcher reports (metrics). */
export type BatchingObserver = Pick<InferenceObserver, 'queueWait' | 'queueDepth'>;

interface Row {
  readonly ids: Int32Array;
  readonly typeIds: Int32Array;
  readonly length: number;
  /** Its batch's pad id: rows of several requests are re-padded with it. */
  readonly padId: number;
  readonly request: Pending;
  readonly index: number;
}

interface Pending {
  readonly rows: number;
  readonly enqueuedAt: number;
  readonly out: Float32Array[];
  remaining: number;
  settled: boolean;
  columns: number;
  resolve(logits: Logits): void;
  reject(error: unknown): void;
}

const LOOKAHEAD = 4;

/** Why the caller gave up: its deadline (DeadlineExceededError) or a disconnect (RequestAbortedError). */
function abortReason(signal: AbortSignal): DomainError {
  return signal.reason instanceof DomainError ? signal.reason : new RequestAbortedError();
}

/**
 * Dynamic batching in front of any `InferenceStrategy`: concurrent requests' sentences are gathered into one
 * model call (padded to that call's longest row), and each request gets its own rows back, in order. The queue is
 * bounded; a request whose caller has gone (aborted signal) leaves the queue before it costs a model run.
 */
export class BatchedStrategy implements InferenceStrategy {
  private readonly queue: Row[] = [];
  private inFlight = 0;
  /** Rows admitted by `reserve` and not yet queued (their requests are tokenizing). */
  private reserved = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly inner: InferenceStrategy,
    readonly options: BatchingOptions,
    private readonly observer: BatchingObserver = {},
  ) {
    if (options.maxBatchSize < 1 || options.concurrency < 1 || options.maxQueueRows < 1) {
      throw new Error('maxBatchSize, concurrency and maxQueueRows must be at least 1');
    }
  }

  get model(): ServedModel {
    return this.inner.model;
  }

  state(): StrategyState {
    return this.inner.state();
  }

  checkHealth(): Promise<StrategyState> {
    return this.inner.checkHealth();
  }

  reserve(rows: number): () => void {
    const full = this.refusal(rows);
    if (full !== null) {
      throw full;
    }
    this.reserved += rows;
    let held = true;
    return () => {
      if (held) {
        held = false;
        this.reserved -= rows;
      }
    };
  }

  /** The QueueFullError for `rows` more, or null when they fit beside those queued and those reserved. */
  private refusal(rows: number): QueueFullError | null {
    const waiting = this.queue.length + this.reserved;
    return waiting + rows > this.options.maxQueueRows ? new QueueFullError(waiting, this.options.maxQueueRows) : null;
  }

  infer(batch: TokenizedBatch, signal?: AbortSignal): Promise<Logits> {
    if (signal?.aborted) {
      return Promise.reject(abortReason(signal));
    }
    const full = this.refusal(batch.batchSize);
    if (full !== null) {
      return Promise.reject(full);
    }
    return new Promise<Logits>((resolve, reject) => {
      const pending: Pending = {
        rows: batch.batchSize,
        enqueuedAt: performance.now(),
        out: new Array<Float32Array>(batch.batchSize),
        remaining: batch.batchSize,
        settled: false,
        columns: 0,
        resolve,
        reject,
      };
      for (let r = 0; r < batch.batchSize; r++) {
        const start = r * batch.sequenceLength;
        const length = batch.lengths[r] as number;
        this.queue.push({
          ids: batch.inputIds.subarray(start, start + length),
          padId: batch.padId,
          typeIds: batch.tokenTypeIds.subarray(start, start + length),
          length,
          request: pending,
          index: r,
        });
      }
      signal?.addEventListener('abort', () => this.abandon(pending, abortReason(signal)), { once: true });
      this.observer.queueDepth?.(this.queue.length);
      this.schedule();
    });
  }

  /** Drops an aborted request's rows that have not reached the model. */
  private abandon(pending: Pending, reason: DomainError): void {
    if (pending.settled) {
      return;
    }
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i]!.request === pending) {
        this.queue.splice(i, 1);
      }
    }
    this.settle(pending, reason);
    this.observer.queueDepth?.(this.queue.length);
  }

  private schedule(): void {
    while (this.inFlight < this.options.concurrency && this.queue.length > 0) {
      const full = this.queue.length >= this.options.maxBatchSize;
      const oldestWait = performance.now() - this.queue[0]!.request.enqueuedAt;
      if (!full && this.options.maxWaitMs > 0 && oldestWait < this.options.maxWaitMs) {
        this.timer ??= setTimeout(() => {
          this.timer = null;
          this.schedule();
        }, this.options.maxWaitMs - oldestWait);
        return;
      }
      void this.run(this.take());
    }
  }

  /** The next batch: the oldest row, then (when grouping) the queued rows closest to its length. */
  private take(): Row[] {
    const max = this.options.maxBatchSize;
    if (!this.options.groupByLength || this.queue.length === 1) {
      return this.queue.splice(0, max);
    }
    const window = Math.min(this.queue.length, max * LOOKAHEAD);
    const anchor = this.queue[0]!.length;
    const slack = 1 + (this.options.maxPadding ?? Infinity);
    const candidates = Array.from({ length: window - 1 }, (_, i) => i + 1).sort(
      (a, b) => Math.abs(this.queue[a]!.length - anchor) - Math.abs(this.queue[b]!.length - anchor) || a - b,
    );
    const picked = [0];
    let longest = anchor;
    let real = anchor;
    for (const i of candidates) {
      if (picked.length >= max) {
        break;
      }
      const length = this.queue[i]!.length;
      const grown = Math.max(longest, length);
      if (grown * (picked.length + 1) <= slack * (real + length)) {
        picked.push(i);
        longest = grown;
        real += length;
      }
    }
    const rows = picked.sort((a, b) => b - a).map((i) => this.queue.splice(i, 1)[0]!);
    return rows.reverse();
  }

  private async run(rows: Row[]): Promise<void> {
    this.inFlight++;
    const now = performance.now();
    const seen = new Set<Pending>();
    for (const row of rows) {
      if (!seen.has(row.request)) {
        seen.add(row.request);
        this.observer.queueWait?.((now - row.request.enqueuedAt) / 1000);
      }
    }
    this.observer.queueDepth?.(this.queue.length);
    try {
      const batch = padRows(
        rows,
        rows[0]!.padId,
        rows.map(() => false),
      );
      const logits = await this.inner.infer(batch);
      if (logits.rows !== rows.length) {
        throw new Error(`the backend returned ${logits.rows} rows for ${rows.length}`);
      }
      rows.forEach((row, r) =>
        this.deliver(row, logits.data.subarray(r * logits.columns, (r + 1) * logits.columns), logits.columns),
      );
    } catch (error) {
      for (const request of seen) {
        this.settle(request, error);
      }
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }

  private deliver(row: Row, scores: Float32Array, columns: number): void {
    const pending = row.request;
    if (pending.settled) {
      return;
    }
    pending.out[row.index] = scores;
    pending.columns = columns;
    pending.remaining--;
    if (pending.remaining === 0) {
      const data = new Float32Array(pending.rows * columns);
      pending.out.forEach((rowScores, i) => data.set(rowScores, i * columns));
      pending.settled = true;
      pending.resolve({ data, rows: pending.rows, columns });
    }
  }

  private settle(pending: Pending, error: unknown): void {
    if (!pending.settled) {
      pending.settled = true;
      pending.reject(error);
    }
  }
}

/**
 * The strategy as configured: behind a batcher when batching is on, as it is otherwise; with an observer, every
 * model call (and the queue) is reported to it.
 */
export function withBatching(
  strategy: InferenceStrategy,
  config: Omit<BatchingOptions, 'concurrency'> & { readonly enabled: boolean },
  concurrency: number,
  observer?: InferenceObserver,
): InferenceStrategy {
  const observed = observer ? new ObservedStrategy(strategy, observer) : strategy;
  return config.enabled ? new BatchedStrategy(observed, { ...config, concurrency }, observer) : observed;
}
