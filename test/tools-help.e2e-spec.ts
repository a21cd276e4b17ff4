/**
 * Every tool behind an npm script answers `--help` with its usage and changes nothing: before, `version:sync --help`
 * ignored the flag and rewrote files, and `model:export --help` / `model:export-onnx --help` failed on an unknown
 * option. The tools run as `npm run` runs them (tsx); the working tree's status must be the same afterwards.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from './support/app.js';

const TSX = resolve(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs');
const { scripts } = JSON.parse(readFileSync(resolve(REPO_ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};
const TOOLS = ['version:sync', 'model:export', 'model:export-onnx', 'model:import', 'model:quantize', 'model:eval'];

/** The working tree's changes as git sees them (a clone without git compares nothing and says so). */
function treeStatus(): string {
  const result = spawnSync('git', ['status', '--porcelain', '--untracked-files=all'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  return result.status === 0 ? result.stdout : 'no git';
}

describe('tool CLIs answer --help without side effects', () => {
  it.each(TOOLS)(
    'npm run %s -- --help prints its usage, exits 0 and writes nothing',
    (name) => {
      const script = scripts[name]!;
      expect(script).toMatch(/^tsx tools\//);
      const before = treeStatus();
      const result = spawnSync(process.execPath, [TSX, script.slice('tsx '.length), '--help'], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^usage: npm run ${name}`));
      expect(treeStatus()).toBe(before);
    },
    60_000,
  );
});
