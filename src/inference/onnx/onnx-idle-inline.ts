import type { Logits, TokenizedBatch } from '../../model/index.js';
import type { OnnxRunner } from './onnx-worker-pool.js';

/** Batches of at most this many tokens (rows × padded length) may run on the main thread. */
export const IDLE_INLINE_MAX_TOKENS = 256;

/** After two batches met (one arrived while another ran), this long without the main-thread path (ms). */
export const CONTENTION_WINDOW_MS = 50;

interface Waiting {
  readonly batch: TokenizedBatch;
  readonly resolve: (logits: Logits) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The worker pool, plus a single-threaded session on the main thread for when the service is idle. A batch that
 * finds the pool idle waits for the end of this turn of the event loop (`setImmediate`, after every request already
 * received has been read): if it is still the only one and the pool is still idle, it runs on the main thread, saving
 * the two hops to a worker and back (about 0.3 ms of a 1 ms request on the bundled model, one connection:
 * docs/benchmarks.md); otherwise it and the others go to the pool, as under load. Large batches always go to the pool,
 * so the event loop is never held for long.
 */
export class IdleInlineRunner implements OnnxRunner {
  private onPool = 0;
  private waiting: Waiting[] = [];
  private inlineRuns = 0;
  private inlineBusy = false;
  private contendedAt = -Infinity;

  constructor(
    private readonly pool: OnnxRunner,
    private readonly inline: OnnxRunner,
    private readonly maxTokens = IDLE_INLINE_MAX_TOKENS,
  ) {}

  get inputNames(): readonly string[] {
    return this.pool.inputNames;
  }

  get numLabels(): number | null {
    return this.pool.numLabels;
  }

  /** Batches run on the main thread so far. */
  get inlineCount(): number {
    return this.inlineRuns;
  }

  run(batch: TokenizedBatch): Promise<Logits> {
    if (!this.idle) {
      this.contendedAt = performance.now();
    }
    if (!this.quiet || batch.batchSize * batch.sequenceLength > this.maxTokens) {
      return this.runOnPool(batch);
    }
    return new Promise<Logits>((resolve, reject) => {
      this.waiting.push({ batch, resolve, reject });
      if (this.waiting.length === 1) {
        setImmediate(() => this.dispatch());
      }
    });
  }

  async warmUp(batch: TokenizedBatch): Promise<Logits> {
    const [logits] = await Promise.all([this.pool.warmUp(batch), this.inline.warmUp(batch)]);
    return logits;
  }

  async release(): Promise<void> {
    await Promise.all([this.pool.release(), this.inline.release()]);
  }

  private dispatch(): void {
    const waiting = this.waiting;
    this.waiting = [];
    if (waiting.length > 1) {
      this.contendedAt = performance.now();
    }
    const alone = waiting.length === 1 && this.quiet ? waiting[0] : undefined;
    if (alone !== undefined) {
      this.inlineRuns++;
      this.inlineBusy = true;
      this.inline
        .run(alone.batch)
        .finally(() => {
          this.inlineBusy = false;
        })
        .then(alone.resolve, alone.reject);
      return;
    }
    for (const { batch, resolve, reject } of waiting) {
      this.runOnPool(batch).then(resolve, reject);
    }
  }

  /**
   * Nothing runs, and no two batches have met for CONTENTION_WINDOW_MS: under concurrent load the main thread is busy
   * with HTTP, and a model run there would slow every request down (at 4 connections, a quarter fewer requests/s).
   */
  private get quiet(): boolean {
    return this.idle && performance.now() - this.contendedAt > CONTENTION_WINDOW_MS;
  }

  /** Nothing runs: no batch on the pool, none on the main thread. */
  private get idle(): boolean {
    return this.onPool === 0 && !this.inlineBusy;
  }

  private async runOnPool(batch: TokenizedBatch): Promise<Logits> {
    this.onPool++;
    try {
      return await this.pool.run(batch);
    } finally {
      this.onPool--;
    }
  }
}
