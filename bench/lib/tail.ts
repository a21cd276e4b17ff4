/**
 * Where a run's slowest requests finished in time. A tail made by stalls (a garbage-collection pause, a descheduled
 * thread) finishes in bursts: every request in flight during the stall is late together. A tail made by uneven
 * service (queue order, some requests costing more) spreads over the whole run.
 */

/** The windows a run is cut into (ms): about one median latency at 64 connections here. */
export const TAIL_WINDOW_MS = 20;

/** [finish time (ms since the epoch), latency (ms)] of one request. */
export type Completion = readonly [number, number];

/** A garbage-collection pause of the server's main thread (bench/lib/gc-recorder.mjs). */
export interface GcPause {
  /** Start, ms since the epoch. */
  readonly at: number;
  readonly ms: number;
  readonly kind: string;
}

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

export interface StallCauses {
  /** Windows in which a slow request finished. */
  readonly bursts: number;
  /** Of them, those in which, or at most `lookbackMs` before which, a major GC of the server's main thread started. */
  readonly afterMajorGc: number;
  /** The share of all the run's windows so placed after a major GC: what chance alone would give. */
  readonly baseShare: number;
  readonly majorGcs: number;
  readonly lookbackMs: number;
}

interface SlowWindows {
  readonly first: number;
  readonly ofWindows: number;
  readonly slow: number;
  readonly windows: ReadonlySet<number>;
}

function slowWindows(completions: readonly Completion[], share: number, windowMs: number): SlowWindows | null {
  if (completions.length === 0) {
    return null;
  }
  const latencies = completions.map(([, latency]) => latency).sort((a, b) => a - b);
  const threshold = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * (1 - share)))]!;
  // A loop, not Math.min(...): a fast server finishes half a million requests in a run, too many arguments.
  let first = Infinity;
  let last = -Infinity;
  for (const [at] of completions) {
    first = Math.min(first, at);
    last = Math.max(last, at);
  }
  const ofWindows = Math.max(1, Math.ceil((last - first) / windowMs));
  const windows = new Set<number>();
  let slow = 0;
  for (const [at, latency] of completions) {
    if (latency >= threshold) {
      slow++;
      windows.add(Math.min(ofWindows - 1, Math.floor((at - first) / windowMs)));
    }
  }
  return { first, ofWindows, slow, windows };
}

/** How the slowest `share` of a run's requests spread over its windows of `windowMs`. */
export function tailClustering(
  completions: readonly Completion[],
  share = 0.01,
  windowMs = TAIL_WINDOW_MS,
): TailClustering | null {
  const found = slowWindows(completions, share, windowMs);
  if (found === null) {
    return null;
  }
  const { slow, windows, ofWindows } = found;
  // n requests thrown into W windows at random occupy W × (1 − (1 − 1/W)^n) of them on average.
  const windowsIfSpread = ofWindows * (1 - (1 - 1 / ofWindows) ** slow);
  return { slow, windows: windows.size, windowsIfSpread, ofWindows, windowMs };
}

/** Whether the windows with slow requests follow the server's major GCs more often than windows do by chance. */
export function stallCauses(
  completions: readonly Completion[],
  pauses: readonly GcPause[],
  share = 0.01,
  windowMs = TAIL_WINDOW_MS,
  lookbackMs = 3 * TAIL_WINDOW_MS,
): StallCauses | null {
  const found = slowWindows(completions, share, windowMs);
  if (found === null) {
    return null;
  }
  const majors = pauses.filter((pause) => pause.kind === 'major').map((pause) => pause.at);
  const follows = (window: number) => {
    const start = found.first + window * windowMs;
    return majors.some((at) => at <= start + windowMs && at >= start - lookbackMs);
  };
  let base = 0;
  for (let window = 0; window < found.ofWindows; window++) {
    base += follows(window) ? 1 : 0;
  }
  return {
    bursts: found.windows.size,
    afterMajorGc: [...found.windows].filter(follows).length,
    baseShare: base / found.ofWindows,
    majorGcs: majors.filter((at) => at >= found.first && at <= found.first + found.ofWindows * windowMs).length,
    lookbackMs,
  };
}
