/** Messages between the main thread and an ONNX Runtime worker (structured-cloned). */
export type WorkerRequest = RunRequest | { readonly type: 'close' };

export interface RunRequest {
  readonly type: 'run';
  readonly id: number;
  readonly batch: {
    readonly batchSize: number;
    readonly sequenceLength: number;
    readonly padId: number;
    readonly inputIds: Int32Array;
    readonly attentionMask: Int32Array;
    readonly tokenTypeIds: Int32Array;
  };
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
