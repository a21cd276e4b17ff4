/**
 * Garbage-collection pauses of a service's main thread, read from its own Prometheus metrics (prom-client's default
 * `nodejs_gc_duration_seconds`, fed by Node's `gc` performance entries): every request in flight waits through a
 * pause, so their share of the time is the first suspect for a tail.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { GcPause } from './tail.js';

/** `nodejs_gc_duration_seconds_sum` over every kind (minor, major, incremental, weakcb), in seconds. */
export function gcSecondsIn(metricsText: string): number | null {
  let total: number | null = null;
  for (const match of metricsText.matchAll(/^nodejs_gc_duration_seconds_sum\{[^}]*\} (\S+)$/gm)) {
    total = (total ?? 0) + Number(match[1]);
  }
  return total;
}

/** The service's GC pause time so far (seconds), from GET /metrics; null when it cannot be read. */
export async function serverGcSeconds(url: string): Promise<number | null> {
  try {
    const res = await fetch(`${url}/metrics`);
    return res.ok ? gcSecondsIn(await res.text()) : null;
  } catch {
    return null;
  }
}

/** The pauses bench/lib/gc-recorder.mjs wrote to `file` (none when it wrote nothing). */
export function readGcPauses(file: string): GcPause[] {
  if (!existsSync(file)) {
    return [];
  }
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as GcPause);
}
