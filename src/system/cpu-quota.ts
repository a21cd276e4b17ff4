import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** A cgroup file's trimmed text, or null when it cannot be read. */
export function readCgroupFile(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * CPUs this process may actually use: the container's CFS quota (cgroup v2 `cpu.max`, or v1
 * `cpu.cfs_quota_us / cpu.cfs_period_us`) rounded up, capped by the CPUs the scheduler gives us
 * (`os.availableParallelism()`, which honours the affinity mask). ONNX Runtime sizes its pools to the host's
 * cores otherwise, oversubscribing a pod limited to fewer (microsoft/onnxruntime#29510).
 */
export function usableCpus(root = '/sys/fs/cgroup'): number {
  const parallelism = availableParallelism();
  const quota = cgroupQuota(root);
  return quota === null ? parallelism : Math.max(1, Math.min(parallelism, Math.ceil(quota)));
}

/** The CFS quota in CPUs, or null when unlimited or unknown. */
export function cgroupQuota(root = '/sys/fs/cgroup'): number | null {
  const v2 = readCgroupFile(`${root}/cpu.max`);
  if (v2 !== null) {
    const [quota, period] = v2.split(/\s+/);
    return quota === 'max' || !period ? null : ratio(quota, period);
  }
  const quota =
    readCgroupFile(`${root}/cpu/cpu.cfs_quota_us`) ?? readCgroupFile(`${root}/cpu,cpuacct/cpu.cfs_quota_us`);
  const period =
    readCgroupFile(`${root}/cpu/cpu.cfs_period_us`) ?? readCgroupFile(`${root}/cpu,cpuacct/cpu.cfs_period_us`);
  return quota === null || period === null || Number(quota) < 0 ? null : ratio(quota, period);
}

function ratio(quota: string | undefined, period: string): number | null {
  const q = Number(quota);
  const p = Number(period);
  return Number.isFinite(q) && Number.isFinite(p) && q > 0 && p > 0 ? q / p : null;
}
