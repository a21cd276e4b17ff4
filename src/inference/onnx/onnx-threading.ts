import type { AppConfig } from '../../config/index.js';
import { usableCpus } from '../../common/system/cpu-quota.js';

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
  const intraOpThreads = onnx.intraOpThreads || Math.max(1, Math.floor(cpus / Math.max(1, workers)));
  return { workers, intraOpThreads, parallelism: Math.max(1, workers) };
}
