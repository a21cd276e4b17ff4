import { readCgroupFile } from './cpu-quota.js';

/** cgroup v1 reports "no limit" as a huge page-rounded number (9223372036854771712 on 4 KiB pages). */
const V1_UNLIMITED = 2 ** 60;

/**
 * The container's memory limit in bytes (cgroup v2 `memory.max`, or v1 `memory/memory.limit_in_bytes`), or null
 * when there is none or it cannot be read. Exceeding it gets the process OOM-killed.
 */
export function cgroupMemoryLimit(root = '/sys/fs/cgroup'): number | null {
  const v2 = readCgroupFile(`${root}/memory.max`);
  if (v2 !== null) {
    return v2 === 'max' ? null : bytes(v2);
  }
  const v1 = readCgroupFile(`${root}/memory/memory.limit_in_bytes`);
  const limit = v1 === null ? null : bytes(v1);
  return limit === null || limit >= V1_UNLIMITED ? null : limit;
}

function bytes(text: string): number | null {
  const value = Number(text);
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}
