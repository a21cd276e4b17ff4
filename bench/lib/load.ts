/**
 * Load generation with autocannon, and a precise sequential client for single-request latency (autocannon's
 * histogram has whole-millisecond resolution, too coarse for sub-millisecond medians).
 */
import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';
import { type GcPause, type StallCauses, type TailClustering, stallCauses, tailClustering } from './tail.js';

export interface LoadResult {
  readonly connections: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly total: number;
  /** The server's CPU time per completed request over the measured run (ms, all its threads), when known. */
  readonly cpuMsPerRequest: number | null;
  /** The share of the measured run the server's main thread spent paused in garbage collection, when known. */
  readonly gcShare: number | null;
  /** Where in the run the slowest 1% of requests finished: in bursts (stalls) or spread out. */
  readonly tail: TailClustering | null;
  /** Whether the slowest requests' bursts follow the server's major GCs (only when its GC pauses are recorded). */
  readonly stalls: StallCauses | null;
}

export interface LoadOptions {
  readonly url: string;
  readonly path: string;
  readonly bodies: readonly string[];
  readonly connections: number;
  readonly seconds: number;
  readonly warmUpSeconds?: number;
  /** The server's CPU time so far (ms), read before and after the measured run. */
  readonly serverCpuMs?: () => number | null;
  /** The server's garbage-collection pause time so far (seconds), read before and after the measured run. */
  readonly serverGcSeconds?: () => Promise<number | null>;
  /** The server's main-thread GC pauses (bench/lib/gc-recorder.mjs), read after the measured run. */
  readonly serverGcPauses?: () => readonly GcPause[];
}

/** One autocannon run; `onResponse` sees every response's latency (ms) as it finishes. */
function run(
  options: LoadOptions,
  seconds: number,
  onResponse?: (latencyMs: number) => void,
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: seconds,
        skipAggregateResult: true,
        requests: options.bodies.map((body) => ({
          method: 'POST',
          path: options.path,
          headers: { 'content-type': 'application/json' },
          body,
        })),
      },
      (error: Error | null, result) => (error ? reject(error) : resolve(result)),
    );
    if (onResponse) {
      instance.on('response', (_client, _status, _bytes, responseTime) => onResponse(responseTime));
    }
  });
}

/**
 * `count` servers (or variants) measured in turn, once per round, for `rounds` rounds: on a shared machine one run
 * moves by 10–30%, and the medians of alternating rounds compare figures measured side by side. Returns each one's
 * results in round order.
 */
export async function alternatingRounds<T>(
  count: number,
  rounds: number,
  measure: (index: number, round: number) => Promise<T>,
): Promise<T[][]> {
  const results = Array.from({ length: count }, (): T[] => []);
  for (let round = 1; round <= rounds; round++) {
    for (let index = 0; index < count; index++) {
      results[index]!.push(await measure(index, round));
    }
  }
  return results;
}

/** A warm-up run (discarded), then the measured run; latencies in milliseconds. */
export async function load(options: LoadOptions): Promise<LoadResult> {
  if (options.warmUpSeconds ?? 2) {
    await run(options, options.warmUpSeconds ?? 2);
  }
  // With skipAggregateResult, autocannon returns its raw counters and the encoded latency histogram.
  const gcBefore = (await options.serverGcSeconds?.()) ?? null;
  const cpuBefore = options.serverCpuMs?.() ?? null;
  const completions: [number, number][] = [];
  const measured = await run(options, options.seconds, (latency) => {
    completions.push([performance.timeOrigin + performance.now(), latency]);
  });
  const cpuAfter = options.serverCpuMs?.() ?? null;
  const gcAfter = (await options.serverGcSeconds?.()) ?? null;
  const raw = measured as unknown as {
    latencies: string;
    duration: number;
    totalCompletedRequests: number;
    errors: number;
    timeouts: number;
    non2xx: number;
  };
  const encoded = raw.latencies;
  const histogram = hdr.decodeFromCompressedBase64(encoded);
  const result = {
    connections: options.connections,
    seconds: raw.duration,
    requestsPerSecond: raw.totalCompletedRequests / raw.duration,
    p50: histogram.getValueAtPercentile(50),
    p95: histogram.getValueAtPercentile(95),
    p99: histogram.getValueAtPercentile(99),
    errors: raw.errors + raw.timeouts,
    non2xx: raw.non2xx,
    total: raw.totalCompletedRequests,
    cpuMsPerRequest:
      cpuBefore !== null && cpuAfter !== null && raw.totalCompletedRequests > 0
        ? (cpuAfter - cpuBefore) / raw.totalCompletedRequests
        : null,
    tail: tailClustering(completions),
    stalls: options.serverGcPauses ? stallCauses(completions, options.serverGcPauses()) : null,
    gcShare: gcBefore !== null && gcAfter !== null && raw.duration > 0 ? (gcAfter - gcBefore) / raw.duration : null,
  };
  histogram.destroy();
  return result;
}

/** One request at a time, timed with performance.now(): median and p99 in milliseconds. */
export async function sequentialLatency(
  url: string,
  bodies: readonly string[],
  count: number,
): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < count + 50; i++) {
    const started = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: bodies[i % bodies.length],
    });
    await res.arrayBuffer();
    if (i >= 50) {
      times.push(performance.now() - started);
    }
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)] ?? 0, p99: times[Math.floor(times.length * 0.99)] ?? 0 };
}
