/**
 * Preloaded into the service by the bench (`node --import`): appends the main thread's garbage-collection pauses to
 * the file GC_EVENTS_FILE names, one JSON line each: {"at": start in ms since the epoch, "ms": duration, "kind"}.
 * Plain JavaScript: it runs inside the built service, which has no TypeScript loader.
 */
import { appendFileSync } from 'node:fs';
import { PerformanceObserver, constants, performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

const file = process.env.GC_EVENTS_FILE;
const KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

if (file && isMainThread) {
  new PerformanceObserver((list) => {
    const lines = list.getEntries().map((entry) =>
      JSON.stringify({
        at: performance.timeOrigin + entry.startTime,
        ms: entry.duration,
        kind: KINDS[entry.detail?.kind] ?? String(entry.detail?.kind),
      }),
    );
    appendFileSync(file, `${lines.join('\n')}\n`);
  }).observe({ entryTypes: ['gc'] });
}
