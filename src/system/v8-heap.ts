import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the main thread's old generation grow past what is live before its next full collection. V8's own
 * factor rises to 4x under a high allocation rate: at 64 connections the service allocates about 90 KB per request,
 * and peak RSS reached about 370 MB; a fixed 2x (100%) kept it near 320 MB at the same CPU per request (measured with
 * `npm run bench`, docs/benchmarks.md). The flag is read at every collection, so setting it at start-up takes effect.
 * 0 leaves V8's own factor.
 */
export function applyHeapGrowingPercent(percent: number): void {
  if (percent > 0) {
    setFlagsFromString(`--heap-growing-percent=${percent}`);
  }
}
