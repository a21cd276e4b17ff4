import type { ModelTensors } from '../../model/tokenized-batch.js';

/** Messages between the main thread and an ONNX Runtime worker (structured-cloned). */
export type WorkerRequest = RunRequest | { readonly type: 'close' };

export interface RunRequest {
  readonly type: 'run';
  readonly id: number;
  readonly batch: ModelTensors;
}

export type WorkerReply =
  | { readonly type: 'ready'; readonly inputNames: string[]; readonly numLabels: number | null }
  | { readonly type: 'failed'; readonly message: string }
  | {
      readonly type: 'result';
      readonly id: number;
      readonly data: Float32Array;
      readonly rows: number;
      readonly columns: number;
    }
  | { readonly type: 'error'; readonly id: number; readonly message: string };
