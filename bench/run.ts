/**
 * `npm run bench`: one command that builds and starts what it needs, measures everything side by side in one run,
 * and writes docs/benchmarks.md, docs/benchmarks.json and docs/benchmarks.svg.
 *
 * Measured (all on this machine, in this run):
 *  - ceilings: raw ONNX Runtime throughput on the bundled model at the best batch size (in process, no HTTP), and
 *    a minimal node:http server answering fixed JSON (no model);
 *  - the peer: a minimal server around a transformers.js text-classification pipeline on the same model files;
 *  - this service (node dist/main.js), v1, at concurrency 1, 16 and 64, with batching on and off; cold start and
 *    peak RSS; the median single-request latency (sequential, precise timing);
 *  - Express vs Fastify: a minimal Nest app with one validated POST route on each adapter (the service uses
 *    Fastify); server CPU per request for every HTTP server measured;
 *  - v2 against the TF-Serving protocol stand-in, and the stand-in's own cost;
 *  - a larger BERT (4 layers, 256 hidden, random weights generated here, not committed), batching on and off.
 *
 * Options (environment): BENCH_SECONDS (default 8 per run), BENCH_QUICK=1 (shorter, for a smoke run).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { machineInfo } from './lib/machine.js';
import { BertTokenizer } from '../src/model/bert.tokenizer.js';
import { loadModelBundle } from '../src/model/model-bundle.js';
import { REPO_ROOT } from '../tools/common/sst2.js';
import { HTTP_FRAMEWORK, cpuShares } from './lib/cpu-profile.js';
import { readGcPauses, serverGcSeconds } from './lib/gc.js';
import { TAIL_WINDOW_MS } from './lib/tail.js';
import { type LoadResult, alternatingRounds, load, sequentialLatency } from './lib/load.js';
import { type Running, serviceArgs, serviceEnv, start } from './lib/processes.js';
import { type CeilingRow, onnxCeiling as measureCeiling } from './lib/onnx-ceiling.js';
import { SENTENCES } from './lib/sentences.js';
import { startPeer, transformersJsFolder } from './lib/peer.js';
import { LARGE_MODEL_SECTION, OVERLOAD_SECTION, SINGLE_REQUEST_SECTION, carrySection } from './lib/report-section.js';
import { syntheticBert } from './lib/synthetic-bert.js';
import {
  MODEL_DIR,
  NODE,
  PRODUCTION,
  ROUTE_V1,
  type ServiceCommand,
  buildDist,
  median,
  startService,
  withProcess,
} from './lib/service.js';
import { chart } from './lib/svg-chart.js';

const QUICK = process.env.BENCH_QUICK === '1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 3 : 8));
const CONCURRENCY = [1, 16, 64] as const;
const TSX = ['--import', 'tsx'];
const BODIES = SENTENCES.map((sentence) => JSON.stringify({ sentence }));
const ROUTE_V2 = '/v2/inference/sentiment_analysis';
const log = (message: string) => console.error(`[bench] ${message}`);

interface ServiceRun {
  readonly coldStartMs: number;
  readonly peakRssMb: number | null;
  readonly sequential: { p50: number; p99: number };
  readonly load: LoadResult[];
}

/** The service as deployed (package.json start:prod), measured at each concurrency. */
async function service(
  name: string,
  env: Record<string, string>,
  route = ROUTE_V1,
  concurrency: readonly number[] = CONCURRENCY,
  command: ServiceCommand = PRODUCTION,
): Promise<ServiceRun> {
  return withProcess(startService(name, env, command), async (r) => {
    const sequential = await sequentialLatency(`${r.url}${route}`, BODIES, QUICK ? 100 : 500);
    const results: LoadResult[] = [];
    for (const connections of concurrency) {
      log(`${name}: ${connections} connections`);
      results.push(
        await load({
          url: r.url,
          path: route,
          bodies: BODIES,
          connections,
          seconds: SECONDS,
          serverCpuMs: () => r.cpuMs(),
          serverGcSeconds: () => serverGcSeconds(r.url),
        }),
      );
    }
    return { coldStartMs: r.coldStartMs, peakRssMb: r.peakRssMb(), sequential, load: results };
  });
}

const HEAD_TO_HEAD_ROUNDS = QUICK ? 1 : 5;

/**
 * This service and the peer at 64 connections, both running, measured in turn HEAD_TO_HEAD_ROUNDS times: on a
 * shared machine one run of each moves by 10–30%, and alternating rounds let the ratio use medians measured side by
 * side.
 */
async function headToHead(peerDir: string): Promise<{ service: LoadResult[]; peer: LoadResult[] }> {
  const service = await startService('service (head to head)');
  try {
    return await withProcess(startPeer('transformers.js (head to head)', peerDir), async (peer) => {
      const servers = [
        ['service', service, ROUTE_V1],
        ['peer', peer, '/'],
      ] as const;
      const [serviceRounds, peerRounds] = await alternatingRounds(servers.length, HEAD_TO_HEAD_ROUNDS, (i, round) => {
        const [name, running, path] = servers[i]!;
        if (i === 0) {
          log(`head to head, round ${round}`);
        }
        return load({
          url: running.url,
          path,
          bodies: BODIES,
          connections: 64,
          seconds: SECONDS,
          serverCpuMs: () => running.cpuMs(),
          serverGcSeconds: name === 'service' ? () => serverGcSeconds(running.url) : undefined,
        });
      });
      return { service: serviceRounds!, peer: peerRounds! };
    });
  } finally {
    await service.stop();
  }
}

/**
 * The service's main thread under 64 connections, profiled (node --cpu-prof): what share of its busy time the
 * HTTP framework takes bounds what another framework could save.
 */
async function profileService(work: string): Promise<{ owner: string; share: number }[]> {
  const dir = join(work, 'profile');
  const running = startService('service v1 (profiled)', {}, PRODUCTION, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  let child: Running['child'] | undefined;
  await withProcess(running, (r) => {
    child = r.child;
    return load({ url: r.url, path: ROUTE_V1, bodies: BODIES, connections: 64, seconds: SECONDS, warmUpSeconds: 1 });
  });
  // CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile: thread 0 is the main thread (the others are the workers).
  const mainThread = () => (existsSync(dir) ? readdirSync(dir) : []).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  for (let waited = 0; !mainThread() && waited < 5000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const profile = mainThread();
  if (!profile) {
    const files = existsSync(dir) ? readdirSync(dir).join(', ') : 'none';
    log(
      `no main-thread CPU profile was written (exit code ${child?.exitCode}, signal ${child?.signalCode}; files: ${files})`,
    );
    return [];
  }
  return cpuShares(join(dir, profile));
}

/**
 * The service at 64 connections with its main thread's GC pauses recorded (bench/lib/gc-recorder.mjs, preloaded):
 * whether the bursts of slow requests follow its major GCs.
 */
async function tailAnatomy(work: string): Promise<LoadResult> {
  const file = join(work, 'gc-events.jsonl');
  const recorder = resolve(REPO_ROOT, 'bench/lib/gc-recorder.mjs');
  return withProcess(
    startService('service v1 (GC pauses recorded)', { GC_EVENTS_FILE: file }, PRODUCTION, ['--import', recorder]),
    (r) =>
      load({
        url: r.url,
        path: ROUTE_V1,
        bodies: BODIES,
        connections: 64,
        seconds: SECONDS,
        serverCpuMs: () => r.cpuMs(),
        serverGcSeconds: () => serverGcSeconds(r.url),
        serverGcPauses: () => readGcPauses(file),
      }),
  );
}

/** A BERT of 4 layers × 256 hidden with random weights, same tokenizer, built into model.onnx here. */
function largerModel(work: string): Promise<string | null> {
  return syntheticBert(join(work, 'larger'), { hidden: 256, layers: 4, heads: 4, intermediate: 1024 });
}

/** Compiled inside the repository (.cache/), so that it resolves node_modules. */
function compileNestMinimal(): string {
  const out = resolve(REPO_ROOT, '.cache/bench/nest-minimal');
  execFileSync(
    NODE,
    [
      resolve(REPO_ROOT, 'node_modules/typescript/bin/tsc'),
      '--outDir',
      out,
      '--rootDir',
      resolve(REPO_ROOT, 'bench/servers'),
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'ES2023',
      '--experimentalDecorators',
      '--emitDecoratorMetadata',
      '--skipLibCheck',
      '--esModuleInterop',
      resolve(REPO_ROOT, 'bench/servers/nest-minimal.server.ts'),
    ],
    { cwd: REPO_ROOT, stdio: 'inherit' },
  );
  writeFileSync(join(out, 'package.json'), '{"type": "module"}');
  return join(out, 'nest-minimal.server.js');
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-'));
  try {
    log('building dist/');
    buildDist();
    const machine = { ...machineInfo(), secondsPerRun: SECONDS };

    log('ceiling: raw ONNX Runtime');
    const onnx = await measureCeiling(MODEL_DIR, QUICK ? 1 : 3);
    log('ceiling: fixed-JSON node:http');
    const http = await withProcess(
      start('fixed-json', NODE, [...TSX, 'bench/servers/fixed-json.server.ts'], {}, null),
      (r) => load({ url: r.url, path: '/', bodies: BODIES, connections: 64, seconds: SECONDS }),
    );

    log('framework: minimal Nest apps');
    const nestMinimal = compileNestMinimal();
    const framework: Record<string, LoadResult> = {};
    for (const adapter of ['express', 'fastify']) {
      framework[adapter] = await withProcess(
        start(`nest-${adapter}`, NODE, [nestMinimal], { ADAPTER: adapter }, null),
        (r) =>
          load({
            url: r.url,
            path: '/classify',
            bodies: BODIES,
            connections: 64,
            seconds: SECONDS,
            serverCpuMs: () => r.cpuMs(),
          }),
      );
    }

    log('peer: transformers.js');
    const peerDir = transformersJsFolder(
      join(MODEL_DIR, loadModelBundle(MODEL_DIR).version),
      join(work, 'transformers-js-model'),
    );
    const peer = await withProcess(startPeer('transformers.js', peerDir), async (r) => {
      const sequential = await sequentialLatency(r.url, BODIES, QUICK ? 100 : 500);
      const results: LoadResult[] = [];
      for (const connections of CONCURRENCY) {
        log(`transformers.js: ${connections} connections`);
        results.push(
          await load({
            url: r.url,
            path: '/',
            bodies: BODIES,
            connections,
            seconds: SECONDS,
            serverCpuMs: () => r.cpuMs(),
          }),
        );
      }
      return { coldStartMs: r.coldStartMs, peakRssMb: r.peakRssMb(), sequential, load: results };
    });

    log('head to head: service and peer at 64 connections, alternating');
    const rounds = await headToHead(peerDir);
    const batchingOn = await service('service v1 (batching on)', { BATCHING_ENABLED: 'true' });
    log('service v1 with its GC pauses recorded');
    const anatomy = await tailAnatomy(work);
    log('service v1 main-thread profile');
    const profile = await profileService(work);
    const batchingOff = await service('service v1 (batching off)', { BATCHING_ENABLED: 'false' });
    // The memory settings' price: the same service with V8's and glibc's own memory defaults.
    const memoryDefaults = await service(
      'service v1 (memory defaults)',
      { BATCHING_ENABLED: 'true', HEAP_GROWING_PERCENT: '0' },
      ROUTE_V1,
      [64],
      { args: ['dist/main.js'], env: {} },
    );

    log('v2 against the TF Serving protocol stand-in');
    const standIn = await startStandIn();
    let v2Result: { service: LoadResult; standIn: LoadResult } | null = null;
    try {
      const predictBody = await standInBody();
      const direct = await load({
        url: standIn.url,
        path: '/v1/models/sentiment_analysis:predict',
        bodies: [predictBody],
        connections: 16,
        seconds: SECONDS,
      });
      const viaService = await service(
        'service v2',
        { TF_SERVING_URL: standIn.url, BATCHING_ENABLED: 'true' },
        ROUTE_V2,
        [16],
      );
      v2Result = { service: viaService.load[0]!, standIn: direct };
    } finally {
      await standIn.stop();
    }

    log('larger BERT (4 layers, 256 hidden, random weights)');
    const largerDir = await largerModel(work);
    let larger: { onnx: CeilingRow[]; on: LoadResult; off: LoadResult } | null = null;
    if (largerDir) {
      const largerOnnx = await measureCeiling(largerDir, QUICK ? 1 : 3);
      const on = await service(
        'larger, batching on',
        { MODEL_DIR: largerDir, BATCHING_ENABLED: 'true' },
        ROUTE_V1,
        [64],
      );
      const off = await service(
        'larger, batching off',
        { MODEL_DIR: largerDir, BATCHING_ENABLED: 'false' },
        ROUTE_V1,
        [64],
      );
      larger = { onnx: largerOnnx, on: on.load[0]!, off: off.load[0]! };
    }

    const results = {
      date: new Date().toISOString(),
      machine,
      ceilings: { onnx, http },
      framework,
      profile,
      anatomy,
      peer,
      batchingOn,
      batchingOff,
      headToHead: rounds,
      memoryDefaults,
      v2: v2Result,
      larger,
    };
    writeFileSync(resolve(REPO_ROOT, 'docs/benchmarks.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeReport(results);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The stand-in in its own process (plain Node speed, like a separate TF Serving server). */
async function startStandIn(): Promise<Running> {
  return start(
    'tf-serving stand-in',
    NODE,
    [...TSX, 'test/support/tf-serving/serve.ts'],
    {},
    '/v1/models/sentiment_analysis',
    120_000,
  );
}

/** One tokenized sentence in TF Serving's columnar format, as v2 sends it. */
async function standInBody(): Promise<string> {
  const bundle = loadModelBundle(MODEL_DIR);
  const tokenizer = BertTokenizer.fromFile(bundle.files.tokenizer, bundle.config.maxLength);
  const batch = await tokenizer.encodeBatch([SENTENCES[2]!]);
  const row = (a: Int32Array) => [Array.from(a)];
  return JSON.stringify({
    signature_name: 'serving_default',
    inputs: {
      input_ids: row(batch.inputIds),
      attention_mask: row(batch.attentionMask),
      token_type_ids: row(batch.tokenTypeIds),
    },
  });
}

type Results = {
  date: string;
  machine: {
    cpu: string;
    cpus: number;
    cgroupQuota: number | null;
    usableCpus: number;
    memoryGb: number;
    node: string;
    secondsPerRun: number;
  };
  ceilings: { onnx: CeilingRow[]; http: LoadResult };
  framework: Record<string, LoadResult>;
  profile: { owner: string; share: number }[];
  anatomy: LoadResult;
  peer: ServiceRun;
  batchingOn: ServiceRun;
  batchingOff: ServiceRun;
  memoryDefaults: ServiceRun;
  headToHead: { service: LoadResult[]; peer: LoadResult[] };
  v2: { service: LoadResult; standIn: LoadResult } | null;
  larger: { onnx: CeilingRow[]; on: LoadResult; off: LoadResult } | null;
};

/** Ceiling rows as a layout × batch-size table. */
function table(rows: readonly CeilingRow[]): string {
  const sizes = [...new Set(rows.map((row) => row.batchSize))];
  const layouts = [...new Set(rows.map((row) => row.layout))];
  return [
    `| layout | ${sizes.map((b) => `batch ${b}`).join(' | ')} |`,
    `|---|${sizes.map(() => '---').join('|')}|`,
    ...layouts.map(
      (layout) =>
        `| ${layout} | ${sizes
          .map((b) =>
            Math.round(
              rows.find((row) => row.layout === layout && row.batchSize === b)?.sentencesPerSecond ?? 0,
            ).toLocaleString('en-US'),
          )
          .join(' | ')} |`,
    ),
  ].join('\n');
}

function writeReport(r: Results): void {
  const f0 = (x: number) => Math.round(x).toLocaleString('en-US');
  const f1 = (x: number) => x.toFixed(1);
  const f2 = (x: number) => x.toFixed(2);
  const f3 = (x: number) => x.toFixed(3);
  const bestOnnx = r.ceilings.onnx.reduce((a, b) => (b.sentencesPerSecond > a.sentencesPerSecond ? b : a));
  const lower = Math.min(bestOnnx.sentencesPerSecond, r.ceilings.http.requestsPerSecond);
  const at = (run: ServiceRun, c: number) => run.load.find((l) => l.connections === c)!;
  const medians = (runs: readonly LoadResult[]) => ({
    rps: median(runs.map((l) => l.requestsPerSecond)),
    p99: median(runs.map((l) => l.p99)),
    cpu: median(runs.map((l) => l.cpuMsPerRequest ?? Number.NaN)),
  });
  const h2h = { service: medians(r.headToHead.service), peer: medians(r.headToHead.peer) };
  const on16 = at(r.batchingOn, 16);
  const targets = [
    [
      'v1 at 64 concurrent ≥ 60% of the lower ceiling (head-to-head median)',
      `${f0(h2h.service.rps)} / ${f0(lower)} = ${f1((100 * h2h.service.rps) / lower)}%`,
      h2h.service.rps >= 0.6 * lower,
    ],
    [
      'v1 at 64 ≥ 3× the transformers.js server (medians of the head-to-head rounds)',
      `${f0(h2h.service.rps)} / ${f0(h2h.peer.rps)} = ${f2(h2h.service.rps / h2h.peer.rps)}×`,
      h2h.service.rps >= 3 * h2h.peer.rps,
    ],
    ['… with a lower p99', `${f1(h2h.service.p99)} ms vs ${f1(h2h.peer.p99)} ms`, h2h.service.p99 < h2h.peer.p99],
    [
      'p99 at 16 ≤ 3× the median single-request latency',
      `${f1(on16.p99)} ms / ${f2(r.batchingOn.sequential.p50)} ms = ${f1(on16.p99 / r.batchingOn.sequential.p50)}×`,
      on16.p99 <= 3 * r.batchingOn.sequential.p50,
    ],
    ['cold start to ready < 1.5 s', `${f0(r.batchingOn.coldStartMs)} ms`, r.batchingOn.coldStartMs < 1500],
    [
      'peak RSS under load < 300 MB',
      `${f0(r.batchingOn.peakRssMb ?? Number.NaN)} MB`,
      (r.batchingOn.peakRssMb ?? Infinity) < 300,
    ],
    ...(r.larger
      ? [
          [
            'larger BERT at 64: batching on ≥ 2× off',
            `${f0(r.larger.on.requestsPerSecond)} / ${f0(r.larger.off.requestsPerSecond)} = ${f2(r.larger.on.requestsPerSecond / r.larger.off.requestsPerSecond)}×`,
            r.larger.on.requestsPerSecond >= 2 * r.larger.off.requestsPerSecond,
          ] as const,
        ]
      : []),
  ] as const;
  const tail = (l: LoadResult) =>
    l.tail === null ? 'n/a' : `${l.tail.windows} of ${l.tail.ofWindows} windows (${f0(l.tail.windowsIfSpread)})`;
  const anatomy = (l: LoadResult) => {
    if (l.tail === null || l.stalls === null) {
      return 'not measured';
    }
    const { tail: t, stalls: st } = l;
    return `The service at 64 connections with its main thread's garbage-collection pauses recorded (\`node --import
bench/lib/gc-recorder.mjs\`): ${f0(l.requestsPerSecond)} requests/s, p50 ${f1(l.p50)} ms, p99 ${f1(l.p99)} ms, GC pauses
${gc(l)} of the time. The slowest 1% (${t.slow} requests) finished in **${t.windows} of the run's ${t.ofWindows}
${t.windowMs}-ms windows** (${f0(t.windowsIfSpread)} if they had finished at random times): in bursts. **${st.afterMajorGc} of
those ${st.bursts} windows** had a major GC of the main thread start in them or at most ${st.lookbackMs} ms before
(${st.majorGcs} major GCs in the run); by chance ${f1(100 * st.baseShare)}% of windows would. A major GC's final pause stops
the event loop for several milliseconds while the requests in flight wait; the young generation's size and what
each request allocates set how often it comes (\`npm run bench:compare -- young-generation\`).`;
  };
  const cpu = (l: LoadResult) => (l.cpuMsPerRequest === null ? 'n/a' : f2(l.cpuMsPerRequest));
  const gc = (l: LoadResult) => (l.gcShare === null ? 'n/a' : `${f1(100 * l.gcShare)}%`);
  const row = (name: string, run: ServiceRun) =>
    run.load
      .map(
        (l) =>
          `| ${name} | ${l.connections} | ${f0(l.requestsPerSecond)} | ${f1(l.p50)} | ${f1(l.p95)} | ${f1(l.p99)} | ${l.errors + l.non2xx} | ${cpu(l)} | ${gc(l)} |`,
      )
      .join('\n');
  const md = `# Benchmarks

Generated by \`npm run bench\` (bench/run.ts) on ${r.date.slice(0, 16).replace('T', ' ')} UTC, everything in one run on one machine:
${String(r.machine.cpu)}, ${String(r.machine.cpus)} CPUs (cgroup quota: ${r.machine.cgroupQuota === null ? 'none' : r.machine.cgroupQuota.toFixed(2)}), ${String(r.machine.memoryGb)} GB, Node ${String(r.machine.node)}.
The load generator (autocannon) runs on the same machine and competes for its CPUs; each figure is one ${SECONDS}-second run
after a 2-second warm-up; the machine is shared, so compare figures within this file, as ratios. Latencies in ms.
Requests cycle through ${SENTENCES.length} review-like sentences of 3 to 60 words (bench/lib/sentences.ts).

![throughput and p99 by concurrency](benchmarks.svg)

## Targets

| target | measured | met |
|---|---|---|
${targets.map(([name, value, ok]) => `| ${name} | ${value} | ${ok ? 'yes' : '**no**'} |`).join('\n')}

## Ceilings

| ceiling | figure |
|---|---|
| raw ONNX Runtime, no HTTP, best layout and batch size (${bestOnnx.layout}, batch ${bestOnnx.batchSize}) | ${f0(bestOnnx.sentencesPerSecond)} sentences/s |
| minimal node:http server, fixed JSON, 64 connections | ${f0(r.ceilings.http.requestsPerSecond)} requests/s (p99 ${f1(r.ceilings.http.p99)}) |

Raw ONNX Runtime by layout and batch size (sentences/s, batches of similar-length sentences):
${table(r.ceilings.onnx)}

## This service (v1) and the transformers.js peer

| server | connections | requests/s | p50 | p95 | p99 | errors | server CPU per request (ms) | main-thread GC pauses |
|---|---|---|---|---|---|---|---|---|
${row('service, batching on', r.batchingOn)}
${row('service, batching off', r.batchingOff)}
${row('service, memory defaults', r.memoryDefaults)}
${row('transformers.js peer', r.peer)}

| server | cold start to ready | peak RSS | single request, median (p99), sequential |
|---|---|---|---|
| service, batching on | ${f0(r.batchingOn.coldStartMs)} ms | ${f0(r.batchingOn.peakRssMb ?? Number.NaN)} MB | ${f2(r.batchingOn.sequential.p50)} (${f2(r.batchingOn.sequential.p99)}) |
| service, batching off | ${f0(r.batchingOff.coldStartMs)} ms | ${f0(r.batchingOff.peakRssMb ?? Number.NaN)} MB | ${f2(r.batchingOff.sequential.p50)} (${f2(r.batchingOff.sequential.p99)}) |
| service, memory defaults | ${f0(r.memoryDefaults.coldStartMs)} ms | ${f0(r.memoryDefaults.peakRssMb ?? Number.NaN)} MB | ${f2(r.memoryDefaults.sequential.p50)} (${f2(r.memoryDefaults.sequential.p99)}) |
| transformers.js peer | ${f0(r.peer.coldStartMs)} ms | ${f0(r.peer.peakRssMb ?? Number.NaN)} MB | ${f2(r.peer.sequential.p50)} (${f2(r.peer.sequential.p99)}) |

"Service" runs package.json's \`start:prod\` (\`${Object.entries(serviceEnv())
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}\`, V8 flags \`${serviceArgs().slice(0, -1).join(' ')}\`) with HEAP_GROWING_PERCENT=100; "memory
defaults" is \`node dist/main.js\` with HEAP_GROWING_PERCENT=0 and no MALLOC_ARENA_MAX, measured only at 64
connections: what the memory settings cost in CPU and save in RSS.

## Head to head at 64 connections

Both servers running, measured in turn, ${HEAD_TO_HEAD_ROUNDS} rounds (the targets above use these medians):

| round | service requests/s | p99 | CPU per request (ms) | GC pauses | slowest 1% finished in | peer requests/s | p99 | CPU per request (ms) | slowest 1% finished in |
|---|---|---|---|---|---|---|---|---|---|
${r.headToHead.service
  .map((s, i) => {
    const p = r.headToHead.peer[i]!;
    return `| ${i + 1} | ${f0(s.requestsPerSecond)} | ${f1(s.p99)} | ${cpu(s)} | ${gc(s)} | ${tail(s)} | ${f0(p.requestsPerSecond)} | ${f1(p.p99)} | ${cpu(p)} | ${tail(p)} |`;
  })
  .join('\n')}
| median | ${f0(h2h.service.rps)} | ${f1(h2h.service.p99)} | ${f2(h2h.service.cpu)} | | | ${f0(h2h.peer.rps)} | ${f1(h2h.peer.p99)} | ${f2(h2h.peer.cpu)} | |

"Slowest 1% finished in": the distinct ${TAIL_WINDOW_MS}-ms windows of the run in which the slowest 1% of its requests
finished, and (in brackets) how many windows as many requests finishing at random times would occupy. Far fewer
means the tail comes in bursts: stalls that hold up every request in flight at once (garbage-collection pauses of
the main thread, a thread the OS has descheduled), not some requests served later than others.

## Where the tail comes from

${anatomy(r.anatomy)}

## Express or Fastify

The service runs on Fastify. A minimal Nest app (one POST route, the same ValidationPipe and DTO style, fixed
answer), 64 connections:
${Object.entries(r.framework)
  .map(
    ([adapter, l]) =>
      `${adapter} ${f0(l.requestsPerSecond)} requests/s (p99 ${f1(l.p99)} ms, ${l.cpuMsPerRequest === null ? 'n/a' : f3(l.cpuMsPerRequest)} ms of CPU per request)`,
  )
  .join('; ')}.
Server CPU per request (all the server's threads, measured from /proc over the run) moves with the shared machine
too (its neighbours take CPU time and cache), if less than requests/s: compare servers within one run.

Where the service's main thread spends its busy time at 64 connections (\`node --cpu-prof\`, self time by package):
${r.profile
  .slice(0, 12)
  .map((p) => `${p.owner} ${(100 * p.share).toFixed(1)}%`)
  .join(', ')}.
The HTTP framework (Fastify, its router and middleware runner) takes
**${(100 * r.profile.filter((p) => HTTP_FRAMEWORK.has(p.owner)).reduce((a, p) => a + p.share, 0)).toFixed(1)}%** of it: the most
any framework could save on this service's main thread, however much faster it is on an empty route.

## v2 (TF Serving protocol stand-in)

${
  r.v2
    ? `| | connections | requests/s | p50 | p99 |
|---|---|---|---|---|
| service v2 → stand-in | 16 | ${f0(r.v2.service.requestsPerSecond)} | ${f1(r.v2.service.p50)} | ${f1(r.v2.service.p99)} |
| stand-in alone (one-sentence :predict) | 16 | ${f0(r.v2.standIn.requestsPerSecond)} | ${f1(r.v2.standIn.p50)} | ${f1(r.v2.standIn.p99)} |

The stand-in executes the SavedModel in tfjs (pure JavaScript), far slower than TF Serving or ONNX Runtime; what the
comparison shows is the client's overhead on top of the backend (tokenization, JSON, HTTP), not TF Serving's speed.`
    : 'not measured'
}

## A larger BERT (4 layers, 256 hidden, random weights), 64 connections

${
  r.larger
    ? `| | requests/s | p50 | p99 |
|---|---|---|---|
| batching on | ${f0(r.larger.on.requestsPerSecond)} | ${f1(r.larger.on.p50)} | ${f1(r.larger.on.p99)} |
| batching off | ${f0(r.larger.off.requestsPerSecond)} | ${f1(r.larger.off.p50)} | ${f1(r.larger.off.p99)} |

Raw ONNX Runtime on it (sentences/s):
${table(r.larger.onnx)}`
    : 'not measured (the ONNX emitter is not available)'
}
`;
  const report = resolve(REPO_ROOT, 'docs/benchmarks.md');
  const carried = [LARGE_MODEL_SECTION, OVERLOAD_SECTION, SINGLE_REQUEST_SECTION].reduce(
    (text, section) => carrySection(text, report, section),
    md,
  );
  writeFileSync(report, carried);
  const series = (name: string, color: string, run: ServiceRun, pick: (l: LoadResult) => number) => ({
    name,
    color,
    points: run.load.map((l) => ({ x: l.connections, y: pick(l) })),
  });
  const svg = chart(
    [
      series('service, batching on', '#2b6cb0', r.batchingOn, (l) => l.requestsPerSecond),
      series('service, batching off', '#90cdf4', r.batchingOff, (l) => l.requestsPerSecond),
      series('transformers.js peer', '#dd6b20', r.peer, (l) => l.requestsPerSecond),
    ],
    [
      series('service, batching on', '#2b6cb0', r.batchingOn, (l) => l.p99),
      series('service, batching off', '#90cdf4', r.batchingOff, (l) => l.p99),
      series('transformers.js peer', '#dd6b20', r.peer, (l) => l.p99),
    ],
    [
      { name: 'ONNX Runtime ceiling', color: '#2f855a', y: bestOnnx.sentencesPerSecond },
      { name: 'HTTP ceiling', color: '#9b2c2c', y: r.ceilings.http.requestsPerSecond },
    ],
    CONCURRENCY,
    `npm run bench, ${r.date.slice(0, 10)}, ${String(r.machine.cpu)}, ${String(r.machine.cpus)} CPUs`,
  );
  writeFileSync(resolve(REPO_ROOT, 'docs/benchmarks.svg'), svg);
  console.log(md);
}

await main();
