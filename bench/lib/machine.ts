import { availableParallelism, cpus, totalmem } from 'node:os';
import { cgroupQuota, usableCpus } from '../../src/system/cpu-quota.js';

/** What a report says about the machine it ran on. */
export function machineInfo() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: availableParallelism(),
    cgroupQuota: cgroupQuota(),
    usableCpus: usableCpus(),
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}
