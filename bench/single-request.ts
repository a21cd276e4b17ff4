/**
 * `npm run bench:single`: the service against the transformers.js peer one request at a time (one connection) and at
 * 64 connections, in alternating rounds (medians), and where each server's CPU goes per request at one connection
 * (V8 profiles of all its threads, grouped by stage of the request path). Writes its block of docs/benchmarks.md
 * and docs/single-request.json.
 *
 * Options (environment): BENCH_SECONDS (5) per round, BENCH_ROUNDS (5), BENCH_PROFILE_ROUNDS (3) of profiled runs
 * per server (each stage's median), BENCH_BEFORE: a dist/ folder built from an
 * earlier commit, measured beside the current one ("before"): for example
 *   git worktree add .cache/before <commit> && ln -s ../../node_modules .cache/before/node_modules &&
 *   (cd .cache/before && npx tsc -p tsconfig.build.json) && BENCH_BEFORE=.cache/before/dist npm run bench:single
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { loadModelBundle } from '../src/model/model-bundle.js';
import { REPO_ROOT } from '../tools/common/sst2.js';
import { type LoadResult, alternatingRounds, load } from './lib/load.js';
import { machineInfo } from './lib/machine.js';
import { startPeer, transformersJsFolder } from './lib/peer.js';
import type { Running } from './lib/processes.js';
import { SINGLE_REQUEST_SECTION, writeSection } from './lib/report-section.js';
import { BREAKDOWN_STAGES, requestBreakdown } from './lib/request-breakdown.js';
import { SENTENCES } from './lib/sentences.js';
import {
  MODEL_DIR,
  PRODUCTION,
  ROUTE_V1,
  type ServiceCommand,
  buildDist,
  median,
  startService,
} from './lib/service.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PROFILE_ROUNDS = Number(process.env.BENCH_PROFILE_ROUNDS ?? 3);
const BEFORE = process.env.BENCH_BEFORE;
const CONNECTIONS = [1, 64] as const;
const BODIES = SENTENCES.map((sentence) => JSON.stringify({ sentence }));
const log = (message: string) => console.error(`[bench:single] ${message}`);

interface Server {
  readonly name: string;
  readonly path: string;
  readonly start: (nodeFlags?: readonly string[]) => Promise<Running>;
}

/** Production's command on another dist/ folder (one inside the repository, so that node_modules resolve). */
function onDist(dist: string): ServiceCommand {
  const main = relative(REPO_ROOT, resolve(dist, 'main.js'));
  return { ...PRODUCTION, args: PRODUCTION.args.map((arg) => (arg.endsWith('dist/main.js') ? main : arg)) };
}

interface Summary {
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuMsPerRequest: number;
  readonly rounds: readonly number[];
}

const summarize = (results: readonly LoadResult[]): Summary => ({
  requestsPerSecond: median(results.map((r) => r.requestsPerSecond)),
  p50: median(results.map((r) => r.p50)),
  p99: median(results.map((r) => r.p99)),
  cpuMsPerRequest: median(results.map((r) => r.cpuMsPerRequest ?? NaN)),
  rounds: results.map((r) => Math.round(r.requestsPerSecond)),
});

/** Alternating rounds: every server measured once per round, in turn. */
async function headToHead(servers: readonly Server[], connections: number): Promise<Record<string, Summary>> {
  const running = await Promise.all(servers.map((server) => server.start()));
  try {
    const results = await alternatingRounds(servers.length, ROUNDS, async (i, round) => {
      const [server, r] = [servers[i]!, running[i]!];
      if (i === 0) {
        log(`${connections} connection(s), round ${round}/${ROUNDS}`);
      }
      const result = await load({
        url: r.url,
        path: server.path,
        bodies: BODIES,
        connections,
        seconds: SECONDS,
        warmUpSeconds: 1,
        serverCpuMs: () => r.cpuMs(),
      });
      if (result.errors > 0 || result.non2xx > 0) {
        throw new Error(`${server.name}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
      }
      return result;
    });
    return Object.fromEntries(servers.map((server, i) => [server.name, summarize(results[i]!)]));
  } finally {
    await Promise.all(running.map((r) => r.stop()));
  }
}

/** µs of CPU per request by stage, one connection, all of the service's threads. */
async function breakdown(server: Server): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
  try {
    const r = await server.start(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    let result: LoadResult;
    let ended: number;
    try {
      result = await load({
        url: r.url,
        path: server.path,
        bodies: BODIES,
        connections: 1,
        seconds: SECONDS,
        warmUpSeconds: 1,
      });
      ended = performance.now();
    } finally {
      await r.stop();
    }
    const tailMs = performance.now() - ended;
    return requestBreakdown(dir, SECONDS * 1000, tailMs, result.total);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

async function main(): Promise<void> {
  buildDist();
  const work = mkdtempSync(join(tmpdir(), 'bench-single-'));
  const peerDir = transformersJsFolder(join(MODEL_DIR, loadModelBundle(MODEL_DIR).version), join(work, 'peer'));
  const servers: Server[] = [
    {
      name: 'this service',
      path: ROUTE_V1,
      start: (flags = []) => startService('service', {}, PRODUCTION, flags),
    },
    ...(BEFORE
      ? [
          {
            name: 'this service, before',
            path: ROUTE_V1,
            start: (flags: readonly string[] = []) => startService('before', {}, onDist(BEFORE), flags),
          },
        ]
      : []),
    {
      name: 'transformers.js peer',
      path: '/',
      start: (flags: readonly string[] = []) => startPeer('peer', peerDir, 'fp32', flags),
    },
  ];
  try {
    const figures: Record<number, Record<string, Summary>> = {};
    for (const connections of CONNECTIONS) {
      figures[connections] = await headToHead(servers, connections);
    }
    // Profiles vary from run to run as much as the load does: alternating rounds, each stage's median.
    const profiles = await alternatingRounds(servers.length, PROFILE_ROUNDS, (i, round) => {
      log(`profiling ${servers[i]!.name}, one connection, round ${round}/${PROFILE_ROUNDS}`);
      return breakdown(servers[i]!);
    });
    const stages = Object.fromEntries(
      servers.map((server, i) => [
        server.name,
        Object.fromEntries(BREAKDOWN_STAGES.map((stage) => [stage, median(profiles[i]!.map((p) => p[stage] ?? 0))])),
      ]),
    );
    const result = {
      date: new Date().toISOString(),
      machine: machineInfo(),
      seconds: SECONDS,
      rounds: ROUNDS,
      profileRounds: PROFILE_ROUNDS,
      figures,
      stages,
    };
    writeFileSync(resolve(REPO_ROOT, 'docs/single-request.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeSection(resolve(REPO_ROOT, 'docs/benchmarks.md'), SINGLE_REQUEST_SECTION, report(result, servers));
    console.log(report(result, servers));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function report(
  result: {
    date: string;
    machine: { cpus: number };
    figures: Record<number, Record<string, Summary>>;
    stages: Record<string, Record<string, number>>;
  },
  servers: readonly Server[],
): string {
  const peer = 'transformers.js peer';
  const rows = CONNECTIONS.flatMap((c) =>
    servers.map((s) => {
      const x = result.figures[c]![s.name]!;
      const ratio = x.requestsPerSecond / result.figures[c]![peer]!.requestsPerSecond;
      return `| ${s.name} | ${c} | ${f0(x.requestsPerSecond)} | ${ratio.toFixed(2)}× | ${x.p50} | ${x.p99} | ${f2(x.cpuMsPerRequest)} | ${x.rounds.map(f0).join(', ')} |`;
    }),
  );
  const profiled = Object.keys(result.stages);
  const stageRows = BREAKDOWN_STAGES.map(
    (stage) => `| ${stage} | ${profiled.map((name) => f0(result.stages[name]![stage]!)).join(' | ')} |`,
  );
  const totals = profiled.map((name) => f0(Object.values(result.stages[name]!).reduce((a, b) => a + b, 0)));
  return `### One request at a time

\`npm run bench:single\` on ${result.date.slice(0, 10)} (${result.machine.cpus} CPUs): the service (defaults, bundled model) and the
transformers.js peer, ${ROUNDS} alternating rounds of ${SECONDS} s per connection count, medians; the same review-like
sentences, the load generator on the same CPUs. Latencies in ms; CPU per request counts all of a server's threads.

| server | connections | requests/s | vs peer | p50 | p99 | CPU per request (ms) | rounds (requests/s) |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Where each server's CPU goes at one connection, µs per request (self time in V8 profiles of every JavaScript thread,
${PROFILE_ROUNDS} alternating runs of ${SECONDS} s per server, each stage's median; by stage of the request path; profiling
itself slows the process down, so compare stages, not totals with the table above; both run ONNX Runtime on one
thread, which V8 sees in the frame that calls it):

| stage | ${profiled.join(' | ')} |
|---|${profiled.map(() => '---|').join('')}
${stageRows.join('\n')}
| total | ${totals.join(' | ')} |`;
}

await main();
