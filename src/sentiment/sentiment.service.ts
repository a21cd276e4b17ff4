import { TooManyInFlightError } from '../errors/index.js';
import type { InferenceObserver, InferenceStrategy, ServedModel } from '../inference/index.js';
import { type BertTokenizer, type Prediction, toPredictions } from '../model/index.js';

export interface Classification {
  readonly predictions: Prediction[];
  /** The model that answered (name, version, backend), for response headers. */
  readonly model: ServedModel;
  /** Whether each sentence was cut to the model's maximum token count. */
  readonly truncated: readonly boolean[];
}

export interface SentimentServiceOptions {
  /** Requests in progress at most (waiting or running); beyond it → TooManyInFlightError (429). */
  readonly maxInFlight: number;
  readonly observer?: InferenceObserver;
}

/** Rejects with the signal's reason (DeadlineExceededError, RequestAbortedError) as soon as it aborts. */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) {
    return work;
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/**
 * The request path, runtime-agnostic: tokenize → strategy → softmax + id2label. One instance per API version,
 * each over its own strategy; nothing here knows which runtime computed the logits. It bounds the requests in
 * progress, and gives up on a request whose signal aborts (deadline passed, client gone): that request is answered
 * at once, and its sentences leave the batching queue if they have not reached the model.
 */
export class SentimentService {
  private active = 0;

  constructor(
    private readonly strategy: InferenceStrategy,
    private readonly tokenizer: BertTokenizer,
    private readonly labels: readonly string[],
    private readonly options: SentimentServiceOptions = { maxInFlight: Number.MAX_SAFE_INTEGER },
  ) {}

  /**
   * Throws the 429 error a request of `rows` sentences would get now (in-flight limit, full queue), holding nothing:
   * the cheap check made before the body is validated, so that a flood is refused before any work is spent on it.
   * `classify` checks again, and holds the room.
   */
  checkAdmission(rows: number): void {
    if (this.active >= this.options.maxInFlight) {
      throw new TooManyInFlightError(this.options.maxInFlight);
    }
    // Reserving and giving back at once checks the room without holding it.
    this.strategy.reserve?.(rows)();
  }

  async classify(sentences: readonly string[], signal?: AbortSignal): Promise<Classification> {
    if (this.active >= this.options.maxInFlight) {
      throw new TooManyInFlightError(this.options.maxInFlight);
    }
    // Admission before any work: a full queue refuses the request now, not after tokenizing it.
    let release = this.strategy.reserve?.(sentences.length);
    this.active++;
    try {
      signal?.throwIfAborted();
      const started = performance.now();
      const batch = await this.tokenizer.encodeBatch(sentences);
      this.options.observer?.tokenization?.(
        (performance.now() - started) / 1000,
        batch.lengths.reduce((sum, length) => sum + length, 0),
      );
      signal?.throwIfAborted();
      // The reserved room becomes queued rows in the same turn of the event loop.
      release?.();
      release = undefined;
      const logits = await abortable(this.strategy.infer(batch, signal), signal);
      const model = this.strategy.model;
      if (logits.rows !== sentences.length) {
        throw new Error(`the ${model.backend} backend returned ${logits.rows} rows for ${sentences.length} sentences`);
      }
      return { predictions: toPredictions(logits, this.labels), model, truncated: batch.truncated };
    } finally {
      release?.();
      this.active--;
    }
  }

  /** Requests in progress (tokenizing, queued or in a model call). */
  get inFlight(): number {
    return this.active;
  }

  get served(): ServedModel {
    return this.strategy.model;
  }

  get labelNames(): readonly string[] {
    return this.labels;
  }

  get maxTokens(): number {
    return this.tokenizer.maxLength;
  }
}
