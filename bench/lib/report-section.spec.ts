import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { carrySection, findSection, withSection, writeSection } from './report-section.js';

describe('report sections', () => {
  it('should append a block once, then replace it in place, leaving the rest as it was', () => {
    const first = withSection('# Report\n\ntext\n', 'large', 'figures 1');
    expect(first).toBe('# Report\n\ntext\n\n<!-- begin large -->\nfigures 1\n<!-- end large -->\n');
    const second = withSection(`${first}\n## after\n`, 'large', 'figures $& 2');
    expect(second).toBe('# Report\n\ntext\n\n<!-- begin large -->\nfigures $& 2\n<!-- end large -->\n\n## after\n');
    expect(findSection(second, 'other')).toBeNull();
  });

  it('should carry a block over into a regenerated report, and write one into a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-section-'));
    try {
      const path = join(dir, 'report.md');
      writeSection(path, 'large', 'kept');
      writeFileSync(path, `# old\n\n${findSection(readFileSync(path, 'utf8'), 'large')}\n`);
      expect(carrySection('# new\n', path, 'large')).toBe('# new\n\n<!-- begin large -->\nkept\n<!-- end large -->\n');
      expect(carrySection('# new\n', join(dir, 'missing.md'), 'large')).toBe('# new\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
