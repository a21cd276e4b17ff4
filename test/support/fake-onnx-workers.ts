/** Worker-thread stand-ins for OnnxWorkerPool's worker factory: the test decides what each worker answers and when. */
import { EventEmitter } from 'node:events';
import type { OnnxWorkerData, OnnxWorkerFactory, PoolWorker } from '../../src/inference/onnx/onnx-worker-pool.js';
import type { RunRequest, WorkerRequest } from '../../src/inference/onnx/onnx-worker.protocol.js';

export const FAKE_INPUT_NAMES = ['input_ids', 'attention_mask', 'token_type_ids'];

/** A worker thread stand-in: it receives what the pool posts, and the test decides what it answers and when. */
export class FakeWorker extends EventEmitter implements PoolWorker {
  readonly posted: WorkerRequest[] = [];
  terminated = false;
  /** Whether a `close` request ends it (as onnx.worker does once its runs are done). */
  endsOnClose = true;

  constructor(
    readonly workerData: OnnxWorkerData,
    public threadId: number,
  ) {
    super();
  }

  get runs(): RunRequest[] {
    return this.posted.filter((message): message is RunRequest => message.type === 'run');
  }

  postMessage(message: WorkerRequest): void {
    this.posted.push(message);
    if (message.type === 'close' && this.endsOnClose) {
      queueMicrotask(() => this.exit(0));
    }
  }

  terminate(): Promise<number> {
    this.terminated = true;
    this.exit(1);
    return Promise.resolve(1);
  }

  /** The thread ends: Node reports `exit` once, and a negative threadId from then on. */
  exit(code: number): void {
    if (this.threadId >= 0) {
      this.threadId = -1;
      this.emit('exit', code);
    }
  }

  ready(): void {
    this.emit('message', { type: 'ready', inputNames: FAKE_INPUT_NAMES, numLabels: 2 });
  }

  /** Answers a run with one logit row per batch row, each [score, -score]. */
  answer(run: RunRequest, score: number): void {
    const rows = run.batch.batchSize;
    const data = new Float32Array(Array.from({ length: rows }, () => [score, -score]).flat());
    this.emit('message', { type: 'result', id: run.id, data, rows, columns: 2 });
  }

  fail(run: RunRequest, message: string): void {
    this.emit('message', { type: 'error', id: run.id, message });
  }
}

/** The factory handed to the pool: every worker it starts, in order; each boots as `boot` says (ready, by default). */
export class FakeThreads {
  readonly started: FakeWorker[] = [];
  constructor(private readonly boot: (worker: FakeWorker, index: number) => void = (worker) => worker.ready()) {}

  readonly start: OnnxWorkerFactory = (workerData) => {
    const index = this.started.length;
    const worker = new FakeWorker(workerData, index + 1);
    this.started.push(worker);
    // A thread reports back asynchronously, after the pool has subscribed.
    queueMicrotask(() => this.boot(worker, index));
    return worker;
  };

  worker(index: number): FakeWorker {
    const worker = this.started[index];
    if (worker === undefined) {
      throw new Error(`worker ${index} was not started (${this.started.length} were)`);
    }
    return worker;
  }
}
