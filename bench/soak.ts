/**
 * `npm run soak`: a few minutes of mixed load on the service as deployed (package.json `start:prod`, v2 against the
 * TF-Serving protocol stand-in), measured window by window, to catch what a short benchmark cannot: errors under
 * sustained mixed traffic, latency that creeps up, memory that keeps growing. Not a CI test.
 *
 * All at once, for the whole run:
 *  - v1 single sentences, v1 /batch with several sentences, v2 single sentences (closed loop, fixed connections);
 *  - a trickle of invalid requests (malformed JSON, empty sentence, sentence too long; v1 and v2) that must get 4xx.
 *
 * Every window: requests, errors (a valid request answered other than 2xx, an invalid one answered other than 4xx,
 * socket errors and timeouts), p50/p99 latency, the service's RSS (/proc/<pid>/status VmRSS) and, where the service
 * has /metrics (prom-client), its V8 heap. The first window is warm-up; drifts compare the last window with the
 * first one after it. Writes docs/soak.md and docs/soak.json; exits 1 if there was any error or the service died.
 *
 * Options (environment): SOAK_SECONDS (default 180), SOAK_WINDOW_SECONDS (default 15).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, release, type } from 'node:os';
import { join, resolve } from 'node:path';
import { machineInfo } from './lib/machine.js';
import { REPO_ROOT } from '../tools/common/sst2.js';
import { type Stream, type Window, startMixedLoad } from './lib/mixed-load.js';
import { type Running, start } from './lib/processes.js';
import { SENTENCES } from './lib/sentences.js';
import { NODE, ROUTE_V1, buildDist, startService } from './lib/service.js';

function seconds(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${name} must be a positive number of seconds, got ${process.env[name]}`);
  }
  return value;
}

const SECONDS = seconds('SOAK_SECONDS', 180);
/** At least two windows: the warm-up and one to compare. */
const WINDOW_SECONDS = Math.min(seconds('SOAK_WINDOW_SECONDS', 15), SECONDS / 2);
const WINDOWS = Math.max(2, Math.round(SECONDS / WINDOW_SECONDS));
const IDLE_SECONDS = 10;
const TSX = ['--import', 'tsx'];
const ROUTE_V2 = '/v2/inference/sentiment_analysis';
const log = (message: string) => console.error(`[soak] ${message}`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

const single = (route: string) => SENTENCES.map((sentence) => ({ path: route, body: JSON.stringify({ sentence }) }));

/** Batches of 4 to 8 sentences, rotating through the set. */
const batches = SENTENCES.map((_, i) => ({
  path: `${ROUTE_V1}/batch`,
  body: JSON.stringify({
    sentences: Array.from({ length: 4 + (i % 5) }, (__, j) => SENTENCES[(i + j) % SENTENCES.length]!),
  }),
}));

/** Each must be answered 400: malformed JSON, empty sentence, longer than MAX_SENTENCE_LENGTH (2000). */
const invalid = [ROUTE_V1, ROUTE_V2].flatMap((route) => [
  { path: route, body: '{"sentence": "unterminated' },
  { path: route, body: JSON.stringify({ sentence: '' }) },
  { path: route, body: JSON.stringify({ sentence: 'too long '.repeat(250) }) },
]);

const STREAMS: readonly Stream[] = [
  { name: 'v1', requests: single(ROUTE_V1), connections: 8, expect: 2 },
  { name: 'v1 batch', requests: batches, connections: 2, expect: 2 },
  { name: 'v2', requests: single(ROUTE_V2), connections: 4, expect: 2 },
  { name: 'invalid', requests: invalid, connections: 1, rate: 5, expect: 4 },
];

/** Resident memory of a process in MB (`VmRSS` or `VmHWM` from /proc/<pid>/status); null when unreadable. */
function procMemoryMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

/** V8 heap used (MB) from the service's Prometheus metrics, if it exposes them; null otherwise. */
async function heapUsedMb(url: string): Promise<number | null> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) {
      await res.arrayBuffer();
      return null;
    }
    const value = /^\w*nodejs_heap_size_used_bytes(?:\{[^}]*\})?\s+(\S+)/m.exec(await res.text())?.[1];
    return value === undefined || !Number.isFinite(Number(value)) ? null : Number(value) / 2 ** 20;
  } catch {
    return null;
  }
}

function newestMtime(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
    const path = join(dir, entry.name);
    return Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }, 0);
}

/** Compiles dist/ unless dist/main.js is newer than every file under src/. */
function buildIfNeeded(): void {
  const main = resolve(REPO_ROOT, 'dist/main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newestMtime(resolve(REPO_ROOT, 'src'))) {
    log('dist/ is up to date');
    return;
  }
  log('building dist/');
  buildDist();
}

function git(...args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** Polls `url` until it answers 200 (the stand-in answers its status URL before the model is AVAILABLE). */
async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await fetch(url).then(
      (r) => r.arrayBuffer().then(() => r.ok),
      () => false,
    ))
  ) {
    if (Date.now() > deadline) {
      throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    }
    await sleep(100);
  }
}

/** One request; the status and the sentiment label it answered. */
async function classify(url: string, route: string, sentence: string): Promise<string> {
  try {
    const res = await fetch(`${url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sentence }),
    });
    const body = (await res.json()) as { sentiment?: string };
    return `${res.status} ${body.sentiment ?? JSON.stringify(body)}`;
  } catch (error) {
    return `failed: ${String(error)}`;
  }
}

interface WindowRow extends Window {
  readonly index: number;
  readonly warmUp: boolean;
  readonly startS: number;
  readonly endS: number;
  readonly requestsPerSecond: number;
  /** VmRSS at the end of the window, and the lowest and highest of its 1-second samples during it (MB). */
  readonly rssMb: number | null;
  readonly rssMinMb: number | null;
  readonly rssMaxMb: number | null;
  /** V8 heap used (MB) at the end of the window, and its 1-second extremes: the lowest is the post-GC floor. */
  readonly heapUsedMb: number | null;
  readonly heapMinMb: number | null;
  readonly heapMaxMb: number | null;
}

/** Least-squares slope of y over x. */
function slope(points: readonly [number, number][]): number | null {
  if (points.length < 2) {
    return null;
  }
  const mx = points.reduce((a, [x]) => a + x, 0) / points.length;
  const my = points.reduce((a, [, y]) => a + y, 0) / points.length;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx ? points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx : null;
}

async function main(): Promise<void> {
  buildIfNeeded();
  const soakEnv = Object.entries(process.env)
    .filter(([k]) => k.startsWith('SOAK_'))
    .map(([k, v]) => `${k}=${v} `)
    .join('');
  const command = `${soakEnv}${process.env.npm_lifecycle_event === 'soak' ? 'npm run soak' : 'npx tsx bench/soak.ts'}`;
  const machine = {
    ...machineInfo(),
    os: `${type()} ${release()}`,
    loadAverage1mAtStart: Number(loadavg()[0]!.toFixed(2)),
  };
  const source = {
    commit: git('rev-parse', '--short', 'HEAD'),
    uncommittedSrcFiles: git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length,
  };

  log('starting the TF Serving protocol stand-in');
  const standIn = await start(
    'tf-serving stand-in',
    NODE,
    [...TSX, 'test/support/tf-serving/serve.ts'],
    {},
    '/v1/models/sentiment_analysis',
    120_000,
  );
  let service: Running | undefined;
  try {
    log('starting the service (package.json start:prod)');
    service = await startService('service', { TF_SERVING_URL: standIn.url });
    await waitFor(`${service.url}/health/dependencies`, 60_000);
    const svc = service;
    const pid = svc.child.pid;
    // Set if the service exits before this script stops it.
    const state: { died: string | null; stopping: boolean } = { died: null, stopping: false };
    svc.child.once('exit', (code, signal) => {
      if (!state.stopping) {
        state.died = `exited during the soak: code ${code}, signal ${signal}`;
      }
    });
    const metrics = (await heapUsedMb(svc.url)) !== null;
    const rssBeforeMb = procMemoryMb(pid, 'VmRSS');
    log(
      `ready in ${Math.round(svc.coldStartMs)} ms, RSS ${rssBeforeMb?.toFixed(1)} MB; /metrics heap: ${metrics ? 'yes' : 'no'}`,
    );

    log(`${WINDOWS} windows of ${WINDOW_SECONDS} s (the first is warm-up)`);
    const load = startMixedLoad(svc.url, STREAMS);
    const t0 = performance.now();
    let rssSamples: number[] = [];
    let heapSamples: number[] = [];
    let heapPending = false;
    const sampler = setInterval(() => {
      const rss = procMemoryMb(pid, 'VmRSS');
      if (rss !== null) {
        rssSamples.push(rss);
      }
      if (metrics && !heapPending) {
        heapPending = true;
        void heapUsedMb(svc.url).then((heap) => {
          if (heap !== null) {
            heapSamples.push(heap);
          }
          heapPending = false;
        });
      }
    }, 1000);
    const extremes = (samples: number[]) =>
      samples.length ? { min: Math.min(...samples), max: Math.max(...samples) } : { min: null, max: null };
    const rows: WindowRow[] = [];
    try {
      let previous = t0;
      for (let i = 0; i < WINDOWS && state.died === null; i++) {
        await sleep(t0 + (i + 1) * WINDOW_SECONDS * 1000 - performance.now());
        const now = performance.now();
        const window = load.window();
        const rss = procMemoryMb(pid, 'VmRSS');
        const heap = metrics ? await heapUsedMb(svc.url) : null;
        const rssRange = extremes(rss === null ? rssSamples : [...rssSamples, rss]);
        const heapRange = extremes(heap === null ? heapSamples : [...heapSamples, heap]);
        rssSamples = [];
        heapSamples = [];
        const row: WindowRow = {
          index: i + 1,
          warmUp: i === 0,
          startS: (previous - t0) / 1000,
          endS: (now - t0) / 1000,
          requestsPerSecond: window.requests / ((now - previous) / 1000),
          ...window,
          rssMb: rss,
          rssMinMb: rssRange.min,
          rssMaxMb: rssRange.max,
          heapUsedMb: heap,
          heapMinMb: heapRange.min,
          heapMaxMb: heapRange.max,
        };
        previous = now;
        rows.push(row);
        log(
          `window ${row.index}: ${row.requests} requests (${row.requestsPerSecond.toFixed(0)}/s), ${row.errors} errors, ` +
            `p50 ${row.valid.p50.toFixed(1)} ms, p99 ${row.valid.p99.toFixed(1)} ms, RSS ${rss?.toFixed(1)} MB`,
        );
      }
    } finally {
      clearInterval(sampler);
      await load.stop();
    }

    log(`load stopped; ${IDLE_SECONDS} s idle`);
    await sleep(IDLE_SECONDS * 1000);
    const rssIdleMb = procMemoryMb(pid, 'VmRSS');
    const peakRssMb = procMemoryMb(pid, 'VmHWM');
    const after = {
      ready: await fetch(`${svc.url}/health/ready`).then(
        (r) => r.arrayBuffer().then(() => r.status),
        () => 0,
      ),
      v1: await classify(svc.url, ROUTE_V1, 'this is a bad example'),
      v2: await classify(svc.url, ROUTE_V2, 'this is a bad example'),
    };
    const standInRssMb = procMemoryMb(standIn.child.pid, 'VmRSS');
    state.stopping = true;
    await svc.stop();
    const exit = state.died ?? `stopped by SIGTERM: code ${svc.child.exitCode}, signal ${svc.child.signalCode}`;

    const first = rows[1] ?? rows[0]!;
    const last = rows[rows.length - 1]!;
    const steady = rows.filter((r) => !r.warmUp);
    const totals = Object.fromEntries(
      STREAMS.map((s) => {
        const ws = rows.map((r) => r.streams[s.name]!);
        const merge = (pick: (w: (typeof ws)[number]) => Record<string, number>) =>
          ws.reduce<Record<string, number>>((acc, w) => {
            for (const [k, v] of Object.entries(pick(w))) {
              acc[k] = (acc[k] ?? 0) + v;
            }
            return acc;
          }, {});
        return [
          s.name,
          {
            requests: ws.reduce((a, w) => a + w.requests, 0),
            errors: ws.reduce((a, w) => a + w.errors, 0),
            statusCodes: merge((w) => w.statusCodes),
            socketErrors: merge((w) => w.socketErrors),
          },
        ];
      }),
    );
    const perMinute = (pick: (r: WindowRow) => number | null) =>
      slope(steady.filter((r) => pick(r) !== null).map((r) => [r.endS / 60, pick(r)!]));
    const summary = {
      windows: rows.length,
      windowSeconds: WINDOW_SECONDS,
      loadSeconds: last.endS,
      // performance.now() counts from process start.
      wallSeconds: performance.now() / 1000,
      requests: rows.reduce((a, r) => a + r.requests, 0),
      errors: rows.reduce((a, r) => a + r.errors, 0),
      firstSteadyWindow: first.index,
      p99DriftRatio: first.valid.p99 ? last.valid.p99 / first.valid.p99 : null,
      p99DriftByStream: Object.fromEntries(
        STREAMS.filter((s) => s.expect === 2).map((s) => {
          const a = first.streams[s.name]!.p99;
          return [s.name, a ? last.streams[s.name]!.p99 / a : null];
        }),
      ),
      throughputDriftRatio: first.requestsPerSecond ? last.requestsPerSecond / first.requestsPerSecond : null,
      rssDriftMb: first.rssMb !== null && last.rssMb !== null ? last.rssMb - first.rssMb : null,
      rssDriftPercent: first.rssMb && last.rssMb !== null ? (100 * (last.rssMb - first.rssMb)) / first.rssMb : null,
      rssSlopeMbPerMinute: perMinute((r) => r.rssMb),
      rssMaxSlopeMbPerMinute: perMinute((r) => r.rssMaxMb),
      rssBeforeLoadMb: rssBeforeMb,
      rssAfterIdleMb: rssIdleMb,
      peakRssMb,
      heapFloorDriftMb: first.heapMinMb !== null && last.heapMinMb !== null ? last.heapMinMb - first.heapMinMb : null,
      heapFloorSlopeMbPerMinute: perMinute((r) => r.heapMinMb),
      coldStartMs: svc.coldStartMs,
      standInRssMb,
      loadAverage1mAtEnd: Number(loadavg()[0]!.toFixed(2)),
      after,
      exit,
      died: state.died !== null,
    };
    const results = {
      date: new Date().toISOString(),
      command,
      machine,
      source,
      streams: STREAMS.map((s) => ({
        name: s.name,
        connections: s.connections,
        rate: s.rate ?? null,
        expect: `${s.expect}xx`,
        paths: [...new Set(s.requests.map((r) => r.path))],
        bodies: s.requests.length,
      })),
      summary,
      totals,
      windows: rows,
    };
    writeFileSync(resolve(REPO_ROOT, 'docs/soak.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeReport(results);
    log(
      `done in ${summary.wallSeconds.toFixed(0)} s: ${summary.requests} requests, ${summary.errors} errors; ` +
        `p99 drift ${summary.p99DriftRatio?.toFixed(2)}×; RSS drift ${summary.rssDriftMb?.toFixed(1)} MB ` +
        `(${summary.rssDriftPercent?.toFixed(1)}%); p99 drift by stream ${JSON.stringify(summary.p99DriftByStream)}; ${exit}`,
    );
    if (summary.errors > 0 || summary.died) {
      process.exitCode = 1;
    }
  } finally {
    await service?.stop();
    await standIn.stop();
  }
}

type Results = {
  date: string;
  command: string;
  machine: Record<string, string | number | null>;
  source: { commit: string; uncommittedSrcFiles: number };
  streams: {
    name: string;
    connections: number;
    rate: number | null;
    expect: string;
    paths: string[];
    bodies: number;
  }[];
  summary: {
    windows: number;
    windowSeconds: number;
    loadSeconds: number;
    wallSeconds: number;
    requests: number;
    errors: number;
    firstSteadyWindow: number;
    p99DriftRatio: number | null;
    p99DriftByStream: Record<string, number | null>;
    throughputDriftRatio: number | null;
    rssDriftMb: number | null;
    rssDriftPercent: number | null;
    rssSlopeMbPerMinute: number | null;
    rssMaxSlopeMbPerMinute: number | null;
    rssBeforeLoadMb: number | null;
    rssAfterIdleMb: number | null;
    peakRssMb: number | null;
    heapFloorDriftMb: number | null;
    heapFloorSlopeMbPerMinute: number | null;
    coldStartMs: number;
    standInRssMb: number | null;
    loadAverage1mAtEnd: number;
    after: { ready: number; v1: string; v2: string };
    exit: string;
    died: boolean;
  };
  totals: Record<
    string,
    { requests: number; errors: number; statusCodes: Record<string, number>; socketErrors: Record<string, number> }
  >;
  windows: WindowRow[];
};

function writeReport(r: Results): void {
  const f0 = (x: number) => Math.round(x).toLocaleString('en-US');
  const f1 = (x: number | null) => (x === null ? 'n/a' : x.toFixed(1));
  const f2 = (x: number | null) => (x === null ? 'n/a' : x.toFixed(2));
  const s = r.summary;
  const counts = (m: Record<string, number>) =>
    Object.entries(m)
      .map(([k, v]) => `${k}: ${f0(v)}`)
      .join(', ') || '—';
  const valid = r.streams.filter((st) => st.expect === '2xx').map((st) => st.name);
  const heap = r.windows.some((w) => w.heapUsedMb !== null);
  const md = `# Soak run

Generated by \`npm run soak\` (bench/soak.ts) on ${r.date}. The service as deployed (package.json \`start:prod\`, batching on,
\`LOG_LEVEL=warn\`) with v2 against the TF-Serving protocol stand-in, both on this machine, under ${f0(s.loadSeconds)} s
of mixed load at once. Windows of ${s.windowSeconds} s; window 1 is warm-up, drifts compare the last window with
window ${s.firstSteadyWindow}.

## Summary

| | |
|---|---|
| requests | ${f0(s.requests)} |
| errors | **${f0(s.errors)}** (valid requests not 2xx, invalid ones not 4xx, socket errors, timeouts) |
| p99 drift (all valid requests) | **${f2(s.p99DriftRatio)}×** (${f1(r.windows.find((w) => w.index === s.firstSteadyWindow)!.valid.p99)} → ${f1(r.windows[r.windows.length - 1]!.valid.p99)} ms) |
| p99 drift by stream | ${Object.entries(s.p99DriftByStream)
    .map(([k, v]) => `${k} ${f2(v)}×`)
    .join(', ')} |
| throughput drift | ${f2(s.throughputDriftRatio)}× |
| RSS drift | **${f1(s.rssDriftMb)} MB (${f1(s.rssDriftPercent)}%)** (end of window ${s.firstSteadyWindow} → end of the last); slope over the steady windows ${f2(s.rssSlopeMbPerMinute)} MB/min (of the window maxima: ${f2(s.rssMaxSlopeMbPerMinute)} MB/min) |
| RSS | ${f1(s.rssBeforeLoadMb)} MB before load, peak ${f1(s.peakRssMb)} MB (VmHWM), ${f1(s.rssAfterIdleMb)} MB after ${IDLE_SECONDS} s idle |
| V8 heap used, post-GC floor (/metrics) | ${heap ? `drift ${f1(s.heapFloorDriftMb)} MB (lowest 1-second sample of window ${s.firstSteadyWindow} → of the last); slope ${f2(s.heapFloorSlopeMbPerMinute)} MB/min` : 'not available (the service has no /metrics)'} |
| cold start to ready | ${f0(s.coldStartMs)} ms |
| after the soak | /health/ready ${s.after.ready}; v1 \`this is a bad example\` → ${s.after.v1}; v2 → ${s.after.v2} |
| service exit | ${s.exit} |
| TF Serving stand-in RSS at the end | ${f1(s.standInRssMb)} MB |
| wall time to the report (build, start, load, idle) | ${f0(s.wallSeconds)} s |

## Windows

Latencies in ms over the valid requests of all streams, then p99 per stream (v2 is much slower: the stand-in runs
the model in pure JavaScript, so once v2 is over 1% of the requests the all-streams p99 falls among v2's latencies);
RSS is the service's VmRSS at the end of the window (the range of its 1-second samples in brackets)${heap ? '; heap is the range of V8 heap used (/metrics, sampled every second): its minimum is the post-GC floor, where a leak would show' : ''}.

| window | seconds | requests | req/s | errors | p50 | p99 | ${valid.map((n) => `p99 ${n}`).join(' | ')} | RSS MB end (min–max) | ${heap ? 'heap MB min–max |' : ''}
|---|---|---|---|---|---|---|${valid.map(() => '---|').join('')}---|${heap ? '---|' : ''}
${r.windows
  .map(
    (w) =>
      `| ${w.index}${w.warmUp ? ' (warm-up)' : ''} | ${f0(w.startS)}–${f0(w.endS)} | ${f0(w.requests)} | ${f0(w.requestsPerSecond)} | ${f0(w.errors)} | ${f2(w.valid.p50)} | ${f2(w.valid.p99)} | ${valid
        .map((n) => f2(w.streams[n]!.p99))
        .join(
          ' | ',
        )} | ${f1(w.rssMb)} (${f1(w.rssMinMb)}–${f1(w.rssMaxMb)}) |${heap ? ` ${f1(w.heapMinMb)}–${f1(w.heapMaxMb)} |` : ''}`,
  )
  .join('\n')}

## Streams

| stream | connections | expects | requests | errors | status codes | socket errors | routes |
|---|---|---|---|---|---|---|---|
${r.streams
  .map((st) => {
    const t = r.totals[st.name]!;
    return `| ${st.name} | ${st.connections}${st.rate ? ` (${st.rate} req/s)` : ''} | ${st.expect} | ${f0(t.requests)} | ${f0(t.errors)} | ${counts(t.statusCodes)} | ${counts(t.socketErrors)} | ${st.paths.map((p) => `\`${p}\``).join(', ')} |`;
  })
  .join('\n')}

- v1 and v2: one sentence per request, cycling through the ${SENTENCES.length} review-like sentences of
  bench/lib/sentences.ts; v1 batch: 4 to 8 of them per request.
- invalid: malformed JSON, an empty sentence and a 2,250-character sentence (over \`MAX_SENTENCE_LENGTH\`), on v1 and v2.
- Closed loop (each connection sends its next request when the previous one is answered) except the invalid
  trickle; load generator, service and stand-in share this machine's CPUs.

## Machine and command

| | |
|---|---|
| CPU | ${r.machine.cpu} |
| CPUs | ${r.machine.cpus} (cgroup quota: ${r.machine.cgroupQuota ?? 'none'}; the service uses ${r.machine.usableCpus}) |
| memory | ${r.machine.memoryGb} GB |
| OS | ${r.machine.os} |
| Node | ${r.machine.node} |
| load average (1 min) | ${r.machine.loadAverage1mAtStart} at the start, ${s.loadAverage1mAtEnd} at the end (the soak alone keeps all ${r.machine.cpus} CPUs busy, so above that is other work) |
| source | commit ${r.source.commit}${r.source.uncommittedSrcFiles ? `, ${r.source.uncommittedSrcFiles} uncommitted file(s) under src/` : ''} |

\`\`\`bash
${r.command}
\`\`\`
`;
  writeFileSync(resolve(REPO_ROOT, 'docs/soak.md'), md);
}

await main();
// Running.stop() (bench/lib/processes.ts) leaves its 30 s SIGKILL fallback timer pending after the child has exited,
// which would keep this process alive that long for nothing.
process.exit();
