import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupQuota, usableCpus } from './cpu-quota.js';

describe('cgroup CPU quota', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cgroup-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('should read a cgroup v2 quota and round it up', () => {
    writeFileSync(join(root, 'cpu.max'), '150000 100000\n');
    expect(cgroupQuota(root)).toBe(1.5);
    expect(usableCpus(root)).toBe(Math.min(2, availableParallelism()));
  });

  it('should treat "max" as no quota', () => {
    writeFileSync(join(root, 'cpu.max'), 'max 100000\n');
    expect(cgroupQuota(root)).toBeNull();
    expect(usableCpus(root)).toBe(availableParallelism());
  });

  it('should read a cgroup v1 quota, and -1 as unlimited', () => {
    mkdirSync(join(root, 'cpu'));
    writeFileSync(join(root, 'cpu', 'cpu.cfs_period_us'), '100000');
    writeFileSync(join(root, 'cpu', 'cpu.cfs_quota_us'), '50000');
    expect(cgroupQuota(root)).toBe(0.5);
    expect(usableCpus(root)).toBe(1);
    writeFileSync(join(root, 'cpu', 'cpu.cfs_quota_us'), '-1');
    expect(cgroupQuota(root)).toBeNull();
  });

  it('should never exceed the CPUs the scheduler gives the process', () => {
    writeFileSync(join(root, 'cpu.max'), `${1000 * 100000} 100000`);
    expect(usableCpus(root)).toBe(availableParallelism());
  });

  it('should fall back to the scheduler when there is no cgroup information', () => {
    expect(cgroupQuota(join(root, 'missing'))).toBeNull();
    expect(usableCpus(join(root, 'missing'))).toBe(availableParallelism());
  });
});
