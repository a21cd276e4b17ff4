import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseVersion, StagedVersion } from './version-folder.js';

describe('version folders of an import', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'version-folder-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('should choose 1 for a new model and the highest numeric version + 1 otherwise', () => {
    const model = join(root, 'm');
    expect(chooseVersion(model)).toBe('1');
    ['1', '2', '10', 'notes', '.import-11-x'].forEach((name) => mkdirSync(join(model, name), { recursive: true }));
    expect(chooseVersion(model)).toBe('11');
    expect(chooseVersion(model, '7')).toBe('7');
  });

  it.each(['01', '-1', '1.5', 'latest', ''])('should refuse --version %j', (version) => {
    expect(() => chooseVersion(root, version)).toThrow(
      `--version ${JSON.stringify(version)}: must be a non-negative integer`,
    );
  });

  it('should stage in a hidden, non-numeric, world-readable folder and publish it by rename', () => {
    const model = join(root, 'm');
    const staged = StagedVersion.create(model, '1', false);
    expect(readdirSync(model)).toEqual([staged.dir.slice(model.length + 1)]);
    expect(staged.dir.slice(model.length + 1)).toMatch(/^\.import-1-/);
    expect(statSync(staged.dir).mode & 0o777).toBe(0o755);
    writeFileSync(join(staged.dir, 'config.json'), '{}');
    expect(staged.publish(false)).toBe(join(model, '1'));
    expect(readdirSync(model)).toEqual(['1']);
    expect(readFileSync(join(model, '1', 'config.json'), 'utf8')).toBe('{}');
  });

  it('should refuse an existing version without force, and replace it with force', () => {
    const model = join(root, 'm');
    mkdirSync(join(model, '1'), { recursive: true });
    writeFileSync(join(model, '1', 'old'), 'old');
    expect(() => StagedVersion.create(model, '1', false)).toThrow(`${join(model, '1')} already exists: pass --force`);
    expect(readdirSync(model)).toEqual(['1']);
    const staged = StagedVersion.create(model, '1', true);
    writeFileSync(join(staged.dir, 'new'), 'new');
    staged.publish(true);
    expect(readdirSync(model)).toEqual(['1']);
    expect(readdirSync(join(model, '1'))).toEqual(['new']);
  });

  it('should remove the staging folder on discard, and the folders it created', () => {
    const fresh = join(root, 'models', 'fresh');
    StagedVersion.create(fresh, '1', false).discard();
    expect(readdirSync(root)).toEqual([]);
    const existing = join(root, 'existing');
    mkdirSync(existing);
    StagedVersion.create(existing, '3', false).discard();
    expect(readdirSync(existing)).toEqual([]);
  });
});
