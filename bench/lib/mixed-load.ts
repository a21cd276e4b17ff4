/**
 * Continuous mixed load for soak runs: several autocannon streams (each its own routes, bodies, connections and
 * optional rate) run side by side for as long as asked, and their responses are counted per window instead of per
 * run. Each response is classified against what its stream expects (2xx for valid requests, 4xx for invalid ones);
 * socket errors and timeouts are errors. Latencies are recorded in microseconds (autocannon times each request
 * with process.hrtime), so sub-millisecond medians are not rounded away.
 */
import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';

export interface Stream {
  readonly name: string;
  /** Requests cycled by each connection. */
  readonly requests: readonly { readonly path: string; readonly body: string }[];
  readonly connections: number;
  /** Requests per second for the whole stream (a trickle); unlimited (closed loop) when absent. */
  readonly rate?: number;
  /** The status class a response must have: 2 (2xx) for valid requests, 4 (4xx) for invalid ones. */
  readonly expect: 2 | 4;
}

export interface StreamWindow {
  readonly requests: number;
  /** Responses of the wrong status class, plus socket errors and timeouts. */
  readonly errors: number;
  readonly statusCodes: Record<string, number>;
  readonly socketErrors: Record<string, number>;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface Window {
  readonly streams: Record<string, StreamWindow>;
  /** Every stream expecting 2xx, merged. */
  readonly valid: { readonly requests: number; readonly p50: number; readonly p99: number };
  readonly requests: number;
  readonly errors: number;
}

export interface MixedLoad {
  /** Closes the current window (its counts start from the previous call, or from the start) and opens the next. */
  window(): Window;
  /** Stops every stream; responses after the last window() are not counted. */
  stop(): Promise<void>;
}

interface Counters {
  histogram: hdr.Histogram;
  requests: number;
  errors: number;
  statusCodes: Record<string, number>;
  socketErrors: Record<string, number>;
}

const newCounters = (): Counters => ({
  histogram: hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 }),
  requests: 0,
  errors: 0,
  statusCodes: {},
  socketErrors: {},
});

const ms = (h: hdr.Histogram, percentile: number) => (h.totalCount ? h.getValueAtPercentile(percentile) / 1000 : 0);

export function startMixedLoad(url: string, streams: readonly Stream[]): MixedLoad {
  let counters = new Map(streams.map((s) => [s.name, newCounters()]));
  let stopped = false;
  const instances = streams.map((stream) => {
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const instance = autocannon(
      {
        url,
        connections: stream.connections,
        ...(stream.rate ? { overallRate: stream.rate } : {}),
        // Stopped by stop(); the duration is only a backstop.
        duration: 24 * 3600,
        timeout: 10,
        skipAggregateResult: true,
        requests: stream.requests.map((r) => ({
          method: 'POST' as const,
          path: r.path,
          headers: { 'content-type': 'application/json' },
          body: r.body,
        })),
      },
      () => finished(),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      const c = counters.get(stream.name);
      if (stopped || !c) {
        return;
      }
      c.requests++;
      c.statusCodes[statusCode] = (c.statusCodes[statusCode] ?? 0) + 1;
      if (Math.floor(statusCode / 100) !== stream.expect) {
        c.errors++;
      }
      c.histogram.recordValue(Math.max(1, Math.round(responseTime * 1000)));
    });
    instance.on('reqError', (error: unknown) => {
      const c = counters.get(stream.name);
      if (stopped || !c) {
        return;
      }
      const key = error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error);
      c.socketErrors[key] = (c.socketErrors[key] ?? 0) + 1;
      c.errors++;
    });
    return { instance, done };
  });

  return {
    window(): Window {
      const closed = counters;
      counters = new Map(streams.map((s) => [s.name, newCounters()]));
      const merged = hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
      const result: Record<string, StreamWindow> = {};
      for (const stream of streams) {
        const c = closed.get(stream.name)!;
        if (stream.expect === 2) {
          merged.add(c.histogram);
        }
        result[stream.name] = {
          requests: c.requests,
          errors: c.errors,
          statusCodes: c.statusCodes,
          socketErrors: c.socketErrors,
          p50: ms(c.histogram, 50),
          p99: ms(c.histogram, 99),
          max: c.histogram.totalCount ? c.histogram.maxValue / 1000 : 0,
        };
        c.histogram.destroy();
      }
      const all = Object.values(result);
      const window = {
        streams: result,
        valid: { requests: merged.totalCount, p50: ms(merged, 50), p99: ms(merged, 99) },
        requests: all.reduce((a, s) => a + s.requests, 0),
        errors: all.reduce((a, s) => a + s.errors, 0),
      };
      merged.destroy();
      return window;
    },
    async stop(): Promise<void> {
      stopped = true;
      for (const { instance } of instances) {
        instance.stop();
      }
      await Promise.all(instances.map((i) => i.done));
    },
  };
}
