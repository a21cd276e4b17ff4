/**
 * Where a run's slowest requests finished in time. A tail made by stalls (a garbage-collection pause, a descheduled
 * thread) finishes in bursts: every request in flight during the stall is late together. A tail made by uneven
 * service (queue order, some requests costing more) spreads over the whole run.
 */

export interface TailClustering {
  /** How many requests the slowest share was (the slowest 1%, ties at its threshold included). */
  readonly slow: number;
  /** Distinct windows of `windowMs` in which a slow request finished. */
  readonly windows: number;
  /** The windows the same number of requests would occupy if they finished at random times over the run. */
  readonly windowsIfSpread: number;
  /** Windows in the run. */
  readonly ofWindows: number;
  readonly windowMs: number;
}

/** The windows a run is cut into (ms): about one median latency at 64 connections here. */
export const TAIL_WINDOW_MS = 20;

/** `completions`: [finish time (ms, any origin), latency (ms)] of every request of a run. */
export function tailClustering(
  completions: readonly (readonly [number, number])[],
  share = 0.01,
  windowMs = TAIL_WINDOW_MS,
): TailClustering | null {
  if (completions.length === 0) {
    return null;
  }
  const latencies = completions.map(([, latency]) => latency).sort((a, b) => a - b);
  const threshold = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * (1 - share)))]!;
  const first = Math.min(...completions.map(([at]) => at));
  const last = Math.max(...completions.map(([at]) => at));
  const ofWindows = Math.max(1, Math.ceil((last - first) / windowMs));
  const windows = new Set<number>();
  let slow = 0;
  for (const [at, latency] of completions) {
    if (latency >= threshold) {
      slow++;
      windows.add(Math.min(ofWindows - 1, Math.floor((at - first) / windowMs)));
    }
  }
  // n requests thrown into W windows at random occupy W × (1 − (1 − 1/W)^n) of them on average.
  const windowsIfSpread = ofWindows * (1 - (1 - 1 / ofWindows) ** slow);
  return { slow, windows: windows.size, windowsIfSpread, ofWindows, windowMs };
}
