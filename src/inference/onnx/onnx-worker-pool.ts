import { Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logits, TokenizedBatch } from '../../model/index.js';
import type { OnnxSessionOptions } from './onnx-session.js';
import type { WorkerReply, WorkerRequest } from './onnx-worker.protocol.js';

/** What OnnxStrategy needs from ONNX Runtime, in process or in workers. */
export interface OnnxRunner {
  readonly inputNames: readonly string[];
  readonly numLabels: number | null;
  run(batch: TokenizedBatch): Promise<Logits>;
  /** Runs `batch` on every session (each pays its lazy initialisation before traffic); the first one's logits. */
  warmUp(batch: TokenizedBatch): Promise<Logits>;
  release(): Promise<void>;
}

/** How long release() waits for a worker to finish its runs and release its session. */
const CLOSE_TIMEOUT_MS = 5_000;

/** What the pool uses of a worker thread: node:worker_threads' Worker, or a stand-in (tests). */
export interface PoolWorker {
  /** Negative once the thread has exited. */
  readonly threadId: number;
  postMessage(message: WorkerRequest): void;
  on(event: 'message', listener: (message: WorkerReply) => void): unknown;
  off(event: 'message', listener: (message: WorkerReply) => void): unknown;
  once(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
  once(event: 'exit', listener: (code: number) => void): unknown;
  terminate(): Promise<number>;
}

/** What a worker is started with (onnx.worker reads it as its workerData). */
export interface OnnxWorkerData {
  readonly modelPath: string;
  readonly options: OnnxSessionOptions;
}

/** Starts one worker; the pool calls it for each worker at creation and for each replacement. */
export type OnnxWorkerFactory = (workerData: OnnxWorkerData) => PoolWorker;

interface Slot {
  worker: PoolWorker;
  /** False from a worker's death until its replacement is ready. */
  alive: boolean;
  readonly pending: Map<number, { resolve(logits: Logits): void; reject(error: Error): void }>;
}

/**
 * The compiled worker next to this file; or, running from TypeScript sources (tests, tsx), a small ESM entry that
 * registers tsx in the worker thread and imports the .ts worker.
 */
function workerEntry(): URL {
  const compiled = new URL('./onnx.worker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) {
    return compiled;
  }
  const tsxRoot = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsx = pathToFileURL(join(tsxRoot, 'dist/esm/api/index.mjs')).href;
  const source = new URL('./onnx.worker.ts', import.meta.url).href;
  const code = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(source)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/** Worker threads running onnx.worker: the pool's default. */
export function onnxWorkerThreads(): OnnxWorkerFactory {
  const entry = workerEntry();
  return (workerData) =>
    new Worker(entry, {
      workerData,
      // A worker only moves ids and logits: a small JavaScript heap is enough (ONNX Runtime's memory is native).
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 },
    });
}

/**
 * N worker threads, each with its own ONNX Runtime session. A batch goes to the worker with the fewest batches in
 * flight; the main thread only posts ids and receives logits. A worker that dies is replaced, and the batches it
 * held fail (the caller sees an error, the pool keeps serving).
 */
export class OnnxWorkerPool implements OnnxRunner {
  private readonly logger = new Logger(OnnxWorkerPool.name);
  private nextId = 1;
  private closing = false;
  /** The warm-up batch, replayed on a replacement worker before it takes traffic. */
  private warmUpBatch: TokenizedBatch | null = null;

  private constructor(
    private readonly slots: Slot[],
    readonly inputNames: readonly string[],
    readonly numLabels: number | null,
    private readonly spawnWorker: () => Promise<{ worker: PoolWorker }>,
  ) {
    slots.forEach((slot) => this.watch(slot));
  }

  static async create(
    modelPath: string,
    workers: number,
    options: OnnxSessionOptions,
    startWorker: OnnxWorkerFactory = onnxWorkerThreads(),
  ): Promise<OnnxWorkerPool> {
    // Each worker reads the file itself: bytes handed over in workerData would stay alive for the worker's life, a
    // copy per worker plus the main thread's (three copies of model.onnx with two workers, besides the sessions').
    await access(modelPath, constants.R_OK);
    let info: { inputNames: string[]; numLabels: number | null } | null = null;
    const spawn = () =>
      new Promise<{ worker: PoolWorker }>((resolve, reject) => {
        const worker = startWorker({ modelPath, options });
        const onMessage = (message: WorkerReply) => {
          if (message.type === 'ready') {
            info = { inputNames: message.inputNames, numLabels: message.numLabels };
            worker.off('message', onMessage);
            worker.off('error', reject);
            resolve({ worker });
          } else if (message.type === 'failed') {
            void worker.terminate();
            reject(new Error(message.message));
          }
        };
        worker.on('message', onMessage);
        worker.once('error', reject);
      });
    const started = await Promise.allSettled(Array.from({ length: workers }, spawn));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    const spawned = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value.worker] : []));
    if (failed || info === null) {
      await Promise.all(spawned.map((worker) => worker.terminate()));
      throw failed?.reason instanceof Error ? failed.reason : new Error('no ONNX Runtime worker started');
    }
    const { inputNames, numLabels } = info as { inputNames: string[]; numLabels: number | null };
    return new OnnxWorkerPool(
      spawned.map((worker) => ({ worker, alive: true, pending: new Map() })),
      inputNames,
      numLabels,
      spawn,
    );
  }

  get size(): number {
    return this.slots.length;
  }

  run(batch: TokenizedBatch): Promise<Logits> {
    const alive = this.slots.filter((s) => s.alive);
    if (alive.length === 0) {
      return Promise.reject(new Error('no ONNX Runtime worker is running'));
    }
    return this.runOn(
      alive.reduce((best, s) => (s.pending.size < best.pending.size ? s : best)),
      batch,
    );
  }

  async warmUp(batch: TokenizedBatch): Promise<Logits> {
    this.warmUpBatch = batch;
    const [first] = await Promise.all(this.slots.map((slot) => this.runOn(slot, batch)));
    return first!;
  }

  private runOn(slot: Slot, batch: TokenizedBatch): Promise<Logits> {
    const id = this.nextId++;
    // Only the tensors cross to the worker (structured clone), not the per-row bookkeeping.
    const { lengths: _lengths, truncated: _truncated, ...tensors } = batch;
    const request: WorkerRequest = { type: 'run', id, batch: tensors };
    return new Promise<Logits>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage(request);
    });
  }

  private watch(slot: Slot): void {
    slot.worker.on('message', (message: WorkerReply) => {
      if (message.type !== 'result' && message.type !== 'error') {
        return;
      }
      const pending = slot.pending.get(message.id);
      slot.pending.delete(message.id);
      if (message.type === 'result') {
        pending?.resolve({ data: message.data, rows: message.rows, columns: message.columns });
      } else {
        pending?.reject(new Error(message.message));
      }
    });
    slot.worker.once('exit', (code) => {
      slot.alive = false;
      const error = new Error(`ONNX Runtime worker exited with code ${code}`);
      for (const pending of slot.pending.values()) {
        pending.reject(error);
      }
      slot.pending.clear();
      if (this.closing) {
        return;
      }
      this.logger.error({ msg: 'ONNX Runtime worker died; replacing it', code });
      this.spawnWorker()
        .then(async ({ worker }) => {
          slot.worker = worker;
          this.watch(slot);
          if (this.warmUpBatch !== null) {
            await this.runOn(slot, this.warmUpBatch);
          }
          slot.alive = true;
        })
        .catch((spawnError: unknown) =>
          this.logger.error({ msg: 'could not replace the worker', err: String(spawnError) }),
        );
    });
  }

  /**
   * Asks every worker to finish its runs, release its session and end; one still running CLOSE_TIMEOUT_MS later is
   * terminated.
   */
  async release(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.slots.map(async ({ worker }) => {
        if (worker.threadId < 0) {
          return; // already gone (a replacement was not ready yet)
        }
        const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
        worker.postMessage({ type: 'close' } satisfies WorkerRequest);
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          exited.then(() => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), CLOSE_TIMEOUT_MS))),
        ]);
        clearTimeout(timer);
        if (timedOut) {
          this.logger.warn({ msg: 'an ONNX Runtime worker did not close in time; terminating it' });
          await worker.terminate();
        }
      }),
    );
  }
}
