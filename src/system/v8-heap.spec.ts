import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { applyHeapGrowingPercent } from './v8-heap.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MODULE = new URL('./v8-heap.ts', import.meta.url).href;

/**
 * The growing factor V8 applies after a full collection in a fresh Node process that calls applyHeapGrowingPercent
 * first, as main.ts does. V8 reports it itself under --trace-gc-verbose ("[HeapController] factor 2.0 based on ..."):
 * the factor the old generation's next allocation limit is computed with.
 */
async function factorAfterFullGc(percent: number, nodeFlags: readonly string[] = []): Promise<string> {
  const code = [
    `const { applyHeapGrowingPercent } = await import(${JSON.stringify(MODULE)});`,
    `applyHeapGrowingPercent(${percent});`,
    'globalThis.gc();',
  ].join('\n');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--expose-gc', '--trace-gc-verbose', ...nodeFlags, '--input-type=module', '-e', code],
    { cwd: REPO_ROOT },
  );
  const factors = [...stdout.matchAll(/\[HeapController\] factor (\d+\.\d)/g)].map((match) => match[1]);
  if (factors.length === 0) {
    throw new Error(`V8 reported no heap growing factor:\n${stdout}`);
  }
  return factors.at(-1)!;
}

describe(applyHeapGrowingPercent.name, () => {
  it("should make V8 grow the old generation by the configured percent after a full collection (100% → 2x, the service's default)", async () => {
    expect(await factorAfterFullGc(100)).toBe('2.0');
  });

  it("should apply a percent beyond V8's own range (at most 4x), which only the flag can produce", async () => {
    expect(await factorAfterFullGc(900)).toBe('10.0');
  });

  it("should leave V8's factor alone when the percent is 0, not reset one given on node's command line", async () => {
    // 10x is outside V8's own range (1.1x to 4x): it stays only if nothing overwrote the command-line flag.
    expect(await factorAfterFullGc(0, ['--heap-growing-percent=900'])).toBe('10.0');
  });
});
