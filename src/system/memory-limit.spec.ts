import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cgroupMemoryLimit } from './memory-limit.js';

describe(cgroupMemoryLimit.name, () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cgroup-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const file = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), `${text}\n`);
  };

  it('should read cgroup v2 memory.max, and "max" as no limit', () => {
    file('memory.max', '536870912');
    expect(cgroupMemoryLimit(root)).toBe(512 * 1024 * 1024);
    file('memory.max', 'max');
    expect(cgroupMemoryLimit(root)).toBeNull();
  });

  it("should read cgroup v1 memory.limit_in_bytes, and v1's page-rounded maximum as no limit", () => {
    file('memory/memory.limit_in_bytes', '2147483648');
    expect(cgroupMemoryLimit(root)).toBe(2 * 1024 ** 3);
    file('memory/memory.limit_in_bytes', '9223372036854771712');
    expect(cgroupMemoryLimit(root)).toBeNull();
  });

  it('should prefer v2 over v1, and report no limit when neither file is readable', () => {
    expect(cgroupMemoryLimit(root)).toBeNull();
    file('memory/memory.limit_in_bytes', '2147483648');
    file('memory.max', '1073741824');
    expect(cgroupMemoryLimit(root)).toBe(1024 ** 3);
  });
});
