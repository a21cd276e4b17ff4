/**
 * A block of a generated Markdown report that another command owns: `npm run bench:large` and `bench:overload`
 * write their summaries into docs/benchmarks.md between `<!-- begin NAME -->` and `<!-- end NAME -->`, and
 * `npm run bench`, which regenerates the rest of that file, carries the blocks over unchanged.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** The block `npm run bench:large` owns in docs/benchmarks.md. */
export const LARGE_MODEL_SECTION = 'bench:large';
/** The block `npm run bench:overload` owns in docs/benchmarks.md. */
export const OVERLOAD_SECTION = 'bench:overload';
/** The block `npm run bench:single` owns in docs/benchmarks.md. */
export const SINGLE_REQUEST_SECTION = 'bench:single';

const markers = (name: string) => [`<!-- begin ${name} -->`, `<!-- end ${name} -->`] as const;

/** The block named `name` in `text` (markers included), or null. */
export function findSection(text: string, name: string): string | null {
  const [begin, end] = markers(name);
  const from = text.indexOf(begin);
  const to = text.indexOf(end, from);
  return from < 0 || to < 0 ? null : text.slice(from, to + end.length);
}

/** `text` with the block `name` holding `content`: replaced where it is, appended (after a blank line) otherwise. */
export function withSection(text: string, name: string, content: string): string {
  const [begin, end] = markers(name);
  const block = `${begin}\n${content.trim()}\n${end}`;
  const existing = findSection(text, name);
  return existing === null ? `${text.trimEnd()}\n\n${block}\n` : text.replace(existing, () => block);
}

/** Writes `content` into the block `name` of the file at `path` (created if missing). */
export function writeSection(path: string, name: string, content: string): void {
  writeFileSync(path, withSection(existsSync(path) ? readFileSync(path, 'utf8') : '', name, content));
}

/** `text` with the block `name` carried over from the file at `path`, when that file has one. */
export function carrySection(text: string, path: string, name: string): string {
  const previous = existsSync(path) ? findSection(readFileSync(path, 'utf8'), name) : null;
  return previous === null ? text : `${text.trimEnd()}\n\n${previous}\n`;
}
