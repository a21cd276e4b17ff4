import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { type AppConfig, ConfigValidationError } from '../../config/index.js';
import { externalDataPath, onnxFileBytes } from '../../model/model-bundle.js';
import { usableCpus } from '../../system/cpu-quota.js';
import { cgroupMemoryLimit } from '../../system/memory-limit.js';

export interface OnnxThreading {
  /** Worker threads with a session each; 0 = inline on the main thread. */
  readonly workers: number;
  /** Intra-op threads per session. */
  readonly intraOpThreads: number;
  /** Model calls that can run at once (what the batcher should keep in flight). */
  readonly parallelism: number;
}

/**
 * Threads for v1 from the configuration and the CPUs this container may use (cgroup quota, not the host's cores):
 * by default one worker per usable CPU with one intra-op thread each, so CPUs are never oversubscribed.
 */
export function onnxThreading({ onnx }: AppConfig, cpus = usableCpus()): OnnxThreading {
  const workers = onnx.execution === 'workers' ? onnx.workers || cpus : 0;
  return threadsFor(workers, onnx.intraOpThreads, cpus);
}

function threadsFor(workers: number, intraOpThreads: number, cpus: number): OnnxThreading {
  return {
    workers,
    intraOpThreads: intraOpThreads || Math.max(1, Math.floor(cpus / Math.max(1, workers))),
    parallelism: Math.max(1, workers),
  };
}

/**
 * What the process needs besides the ONNX Runtime sessions (Node, Nest, the tokenizers, a worker's isolate, requests
 * in flight), and what each session needs: a fixed part (ONNX Runtime's arena and buffers for a batch, the session's
 * own structures) plus a share per byte of the model it serves (initializers and pre-packed weights). Fitted to
 * `npm run bench:large` (docs/large-model.md, 2 CPUs, peaks under load at 1–64 connections):
 * - weights inline in model.onnx: ONNX Runtime parses them out of the protobuf and copies them into tensors, and holds
 *   both while it loads. A BERT-base-shaped model.onnx of 362 MiB peaked at 730 MB with one session and 1348 MB with
 *   two; its model.int8.onnx of 92 MiB at 353 MB and 604 MB: a second session costs about 93 MB + 1.37 × the file. In
 *   the image (test/deploy/large-model-container.e2e-spec.ts) the fp32 file peaked at 829 MiB, hence 1.6.
 * - weights in model.onnx_data (external data, what the model tools write for 64 MiB of weights or more): ONNX Runtime
 *   maps them. The same fp32 model (362 MiB in all) peaked at 606 MB, its int8 (93 MiB) at 351 MB: about 0.95 × the
 *   files beyond the fixed parts, hence 1.1.
 * The bundled model's soak peaks at 335 MB with two sessions.
 */
export const MEMORY_MODEL = {
  processBytes: 150 * 2 ** 20,
  perSessionBytes: 96 * 2 ** 20,
  perSessionFactor: 1.6,
  externalDataFactor: 1.1,
  usableShare: 0.9,
  /**
   * The main thread's session for idle requests (onnx-idle-inline.ts): no isolate of its own, and an arena for small
   * batches only. The bundled model's service peaks 15 MB higher with it (docs/benchmarks.md).
   */
  idleSessionBytes: 16 * 2 ** 20,
} as const;

/**
 * From this size of model.onnx on, the automatic plan runs one session rather than one per CPU (each session holds its
 * own copy of the weights). The bundled model (7.4 MB) is far below it; a DistilBERT-base (255 MB) or a BERT-base
 * (363 MB) far above.
 */
export const LARGE_MODEL_BYTES = 64 * 2 ** 20;

export interface OnnxExecutionPlan extends OnnxThreading {
  /** The container's memory limit (bytes), or null when there is none. */
  readonly memoryLimitBytes: number | null;
  readonly modelBytes: number;
  /** What the plan is expected to use at peak (bytes). */
  readonly estimatedBytes: number;
  /** A single-threaded session on the main thread as well, for a small batch when nothing else runs. */
  readonly idleInline: boolean;
  /** Why the worker count is below what the CPUs allow, when it is. */
  readonly reducedFor?: 'memory';
}

/** The model cannot be served within the container's memory limit (or ONNX_WORKERS' sessions cannot): says what it needs. */
export class ModelMemoryError extends ConfigValidationError {
  override readonly name = 'ModelMemoryError';

  constructor(variable: string, value: string, problem: string) {
    super([{ variable, value, problem }]);
  }
}

const mib = (bytes: number) => `${Math.ceil(bytes / 2 ** 20)} MiB`;

/**
 * v1's execution plan under the container's memory limit: the threading above, with fewer workers (each a full
 * session) when they would not fit in `usableShare` of the limit, and their intra-op threads raised so the CPUs stay
 * in use. Throws ModelMemoryError when even one session does not fit, or when an explicit ONNX_WORKERS does not.
 */
export function planOnnxExecution(
  config: AppConfig,
  modelPath: string,
  cpus = usableCpus(),
  memoryLimitBytes = cgroupMemoryLimit(),
): OnnxExecutionPlan {
  // No model.onnx: v1 fails to load on its own; the plan then counts the process alone.
  const modelBytes = onnxFileBytes(modelPath);
  const automatic = config.onnx.execution === 'workers' && config.onnx.workers === 0;
  // A large model runs as one session, its intra-op threads across the CPUs: one copy of the weights, and its
  // matrix products large enough to divide well (BERT-base: 2 threads run a 32-sentence batch 1.83 × as fast as one).
  const threading =
    automatic && modelBytes >= LARGE_MODEL_BYTES
      ? threadsFor(1, config.onnx.intraOpThreads, cpus)
      : onnxThreading(config, cpus);
  const external = existsSync(externalDataPath(modelPath));
  const factor = external ? MEMORY_MODEL.externalDataFactor : MEMORY_MODEL.perSessionFactor;
  const sessionBytes = MEMORY_MODEL.perSessionBytes + factor * modelBytes;
  const need = (sessions: number) => MEMORY_MODEL.processBytes + Math.max(1, sessions) * sessionBytes;
  const idleBytes = MEMORY_MODEL.idleSessionBytes + factor * modelBytes;
  const budget = memoryLimitBytes === null ? Infinity : memoryLimitBytes * MEMORY_MODEL.usableShare;
  const plan = (t: OnnxThreading, reduced: boolean): OnnxExecutionPlan => {
    // Only beside workers, for a small model, and where it fits with them.
    const idleInline =
      config.onnx.idleInline &&
      t.workers > 0 &&
      modelBytes < LARGE_MODEL_BYTES &&
      need(t.workers) + idleBytes <= budget;
    return {
      ...t,
      idleInline,
      memoryLimitBytes,
      modelBytes,
      estimatedBytes: Math.round(need(t.workers) + (idleInline ? idleBytes : 0)),
      ...(reduced ? { reducedFor: 'memory' as const } : {}),
    };
  };
  if (memoryLimitBytes === null) {
    return plan(threading, false);
  }
  const formula =
    `${mib(MEMORY_MODEL.processBytes)} + (${mib(MEMORY_MODEL.perSessionBytes)} + ${factor} × ` +
    `${basename(modelPath)}${external ? ` and ${basename(externalDataPath(modelPath))}` : ''} (${mib(modelBytes)})) per session`;
  if (need(1) > budget) {
    throw new ModelMemoryError(
      'memory limit',
      mib(memoryLimitBytes),
      `${modelPath} needs about ${mib(need(1) / MEMORY_MODEL.usableShare)} of memory with one ONNX Runtime session ` +
        `(${formula}, at ${MEMORY_MODEL.usableShare * 100}% of the limit), but the container's memory limit is ` +
        `${mib(memoryLimitBytes)}: raise the memory limit or serve a smaller model`,
    );
  }
  if (need(threading.workers) <= budget) {
    return plan(threading, false);
  }
  if (config.onnx.workers > 0) {
    throw new ModelMemoryError(
      'ONNX_WORKERS',
      String(config.onnx.workers),
      `ONNX_WORKERS=${config.onnx.workers} needs about ${mib(need(threading.workers) / MEMORY_MODEL.usableShare)} of ` +
        `memory (${formula}), but the container's memory limit is ${mib(memoryLimitBytes)}: ` +
        'lower ONNX_WORKERS (or leave it unset to fit automatically) or raise the limit',
    );
  }
  const fit = Math.floor((budget - MEMORY_MODEL.processBytes) / sessionBytes);
  return plan(threadsFor(Math.max(1, fit), config.onnx.intraOpThreads, cpus), true);
}
