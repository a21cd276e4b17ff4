import type { TokenizedBatch } from '../model/tokenized-batch.js';
import type { ModelPrecision } from '../model/model-bundle.js';
import type { Logits } from '../model/logits.js';

export type { Logits };

/** What a strategy serves; travels in response headers and the metadata endpoint. */
export interface ServedModel {
  /** Model name, e.g. `sentiment_analysis`. */
  readonly name: string;
  /** Version actually serving (for TF Serving: as reported by TF Serving). */
  readonly version: string;
  /** Which runtime computes the logits. */
  readonly backend: 'onnxruntime' | 'tf-serving';
  /** Model inputs it feeds, in the model's order. */
  readonly inputs: readonly string[];
  /** Weights it computes with: fp32, or int8 (v1 serving model.int8.onnx). */
  readonly precision: ModelPrecision;
}

export type StrategyState =
  | { readonly status: 'loading' }
  | { readonly status: 'ready' }
  | { readonly status: 'failed'; readonly reason: string };

/**
 * One way of turning a tokenized batch into logits. v1 runs ONNX Runtime in-process; v2 calls TensorFlow Serving.
 * Nothing here knows about HTTP; callers never learn which runtime answered, except through `model.backend`.
 */
export interface InferenceStrategy {
  /** The model answering (for TF Serving: the version it resolved last). */
  readonly model: ServedModel;
  /** `ready` only once the model is loaded and has answered a real warm-up inference. */
  state(): StrategyState;
  /** The state, checked now where that means a remote call (health probes). */
  checkHealth(): Promise<StrategyState>;
  /**
   * Logits for every row of the batch, in row order. `signal` aborts when the caller no longer wants the answer
   * (client gone, deadline passed): work not yet started is dropped.
   */
  infer(batch: TokenizedBatch, signal?: AbortSignal): Promise<Logits>;
  /**
   * Holds room for `rows` sentences before the caller spends any work on them (tokenizing), or throws the DomainError
   * a full queue gives (429). The caller gives the room back, through the returned function, just before it calls
   * `infer` with those rows, or when it gives up. Strategies without a queue do not implement it.
   */
  reserve?(rows: number): () => void;
}
