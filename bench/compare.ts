/**
 * `npm run bench:compare -- <preset>`: the service under several settings, all started at once and measured in
 * alternating rounds at 64 connections (a shared machine drifts by 10–30% between runs; alternating rounds let
 * the medians be compared side by side). Writes docs/tuning/<preset>.md and .json.
 *
 * Presets (the defaults they justify):
 *  - young-generation: V8's --max-semi-space-size (start:prod's value against smaller and larger ones);
 *  - batch-size: BATCH_MAX_SIZE;
 *  - tokenizer-fast-path: TOKENIZER_FAST_PATH.
 *
 * Options (environment): BENCH_SECONDS (default 8 per run), COMPARE_ROUNDS (default 3).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from '../tools/common/sst2.js';
import { serverGcSeconds } from './lib/gc.js';
import { TAIL_WINDOW_MS } from './lib/tail.js';
import { type LoadResult, alternatingRounds, load } from './lib/load.js';
import { machineInfo } from './lib/machine.js';
import type { Running } from './lib/processes.js';
import { SENTENCES } from './lib/sentences.js';
import { PRODUCTION, ROUTE_V1, type ServiceCommand, buildDist, median, startService } from './lib/service.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.COMPARE_ROUNDS ?? 3);
const CONNECTIONS = 64;
const BODIES = SENTENCES.map((sentence) => JSON.stringify({ sentence }));
const log = (message: string) => console.error(`[compare] ${message}`);

interface Variant {
  readonly name: string;
  readonly env?: Record<string, string>;
  readonly command?: ServiceCommand;
}

interface Preset {
  readonly question: string;
  readonly variants: readonly Variant[];
}

/** Production's command with one V8 flag set to `value` (replaced where start:prod has it, else added). */
function withV8Flag(flag: string, value: number): ServiceCommand {
  const args = PRODUCTION.args.filter((arg) => !arg.startsWith(`${flag}=`));
  return { ...PRODUCTION, args: [`${flag}=${value}`, ...args] };
}

/** The value start:prod gives a V8 flag, if it gives one. */
function productionV8Flag(flag: string): string | undefined {
  return PRODUCTION.args.find((arg) => arg.startsWith(`${flag}=`))?.split('=')[1];
}

const PRESETS: Record<string, Preset> = {
  'young-generation': {
    question:
      'How large may V8 make the young generation (--max-semi-space-size, MB)? Small saves memory; too small ' +
      'collects requests still in flight (every scavenge copies them), which costs CPU and pauses the main thread.',
    variants: [8, 16, 32].map((mb) => ({
      name: `--max-semi-space-size=${mb}${productionV8Flag('--max-semi-space-size') === String(mb) ? ' (start:prod)' : ''}`,
      command: withV8Flag('--max-semi-space-size', mb),
    })),
  },
  'tokenizer-fast-path': {
    question:
      'Does the tokenizer fast path (tokenizers.js on the main thread for Latin text) still pay on Fastify, against ' +
      'the Rust tokenizer alone (TOKENIZER_FAST_PATH)?',
    variants: ['true', 'false'].map((on) => ({
      name: `TOKENIZER_FAST_PATH=${on}${on === 'true' ? ' (default)' : ''}`,
      env: { TOKENIZER_FAST_PATH: on },
    })),
  },
  'batch-size': {
    question: 'How many sentences may one model call take (BATCH_MAX_SIZE)?',
    variants: [4, 8, 16, 32].map((size) => ({
      name: `BATCH_MAX_SIZE=${size}`,
      env: { BATCH_MAX_SIZE: String(size) },
    })),
  },
};

interface VariantResult {
  readonly name: string;
  readonly rounds: LoadResult[];
  readonly coldStartMs: number;
  readonly peakRssMb: number | null;
}

async function compare(preset: Preset): Promise<VariantResult[]> {
  const running: Running[] = [];
  try {
    for (const variant of preset.variants) {
      log(`starting ${variant.name}`);
      running.push(await startService(variant.name, variant.env ?? {}, variant.command ?? PRODUCTION));
    }
    const rounds = await alternatingRounds(running.length, ROUNDS, (i, round) => {
      const r = running[i]!;
      log(`round ${round}: ${r.name}`);
      return load({
        url: r.url,
        path: ROUTE_V1,
        bodies: BODIES,
        connections: CONNECTIONS,
        seconds: SECONDS,
        serverCpuMs: () => r.cpuMs(),
        serverGcSeconds: () => serverGcSeconds(r.url),
      });
    });
    return running.map((r, i) => ({
      name: r.name,
      rounds: rounds[i]!,
      coldStartMs: r.coldStartMs,
      peakRssMb: r.peakRssMb(),
    }));
  } finally {
    await Promise.all(running.map((r) => r.stop()));
  }
}

function report(name: string, preset: Preset, results: readonly VariantResult[]): string {
  const machine = machineInfo();
  const f0 = (x: number) => Math.round(x).toLocaleString('en-US');
  const f1 = (x: number) => x.toFixed(1);
  const f2 = (x: number) => x.toFixed(2);
  const pct = (x: number | null) => (x === null || Number.isNaN(x) ? 'n/a' : `${f1(100 * x)}%`);
  const of = (r: VariantResult, pick: (l: LoadResult) => number | null) =>
    median(r.rounds.map((l) => pick(l) ?? Number.NaN));
  return `# Tuning: ${name}

Generated by \`npm run bench:compare -- ${name}\` (bench/compare.ts) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC:
${machine.cpu}, ${machine.cpus} CPUs, Node ${machine.node}. ${preset.question}

Every variant runs package.json's \`start:prod\` with the one setting changed; all were started at once and measured
in turn, ${ROUNDS} rounds of ${SECONDS} s at ${CONNECTIONS} connections (after a 2-second warm-up each), with the
load generator on the same CPUs. Medians of the rounds; latencies in ms; GC pauses are the main thread's, as a share
of the run's time (the service's nodejs_gc_duration_seconds); "slowest 1% finished in" counts the ${TAIL_WINDOW_MS}-ms
windows in which the slowest 1% of a run's requests finished, against (in brackets) the windows as many requests
finishing at random times would occupy: far fewer means stalls, not slow requests; peak RSS is each process's own high-water mark over
the whole comparison.

| variant | requests/s | p50 | p99 | server CPU per request (ms) | GC pauses | slowest 1% finished in | peak RSS (MB) | cold start (ms) |
|---|---|---|---|---|---|---|---|---|
${results
  .map(
    (r) =>
      `| ${r.name} | ${f0(of(r, (l) => l.requestsPerSecond))} | ${f1(of(r, (l) => l.p50))} | ${f1(of(r, (l) => l.p99))} | ${f2(of(r, (l) => l.cpuMsPerRequest))} | ${pct(of(r, (l) => l.gcShare))} | ${f0(of(r, (l) => l.tail?.windows ?? null))} of ${f0(of(r, (l) => l.tail?.ofWindows ?? null))} windows (${f0(of(r, (l) => l.tail?.windowsIfSpread ?? null))}) | ${r.peakRssMb === null ? 'n/a' : f0(r.peakRssMb)} | ${f0(r.coldStartMs)} |`,
  )
  .join('\n')}

Rounds (requests/s, p99):

| round | ${results.map((r) => r.name).join(' | ')} |
|---|${results.map(() => '---').join('|')}|
${Array.from(
  { length: ROUNDS },
  (_, i) =>
    `| ${i + 1} | ${results.map((r) => `${f0(r.rounds[i]!.requestsPerSecond)}, ${f1(r.rounds[i]!.p99)}`).join(' | ')} |`,
).join('\n')}
`;
}

async function main(): Promise<void> {
  const name = process.argv[2] ?? '';
  const preset = PRESETS[name];
  if (!preset) {
    console.error(`usage: npm run bench:compare -- <${Object.keys(PRESETS).join('|')}>`);
    process.exitCode = 2;
    return;
  }
  log('building dist/');
  buildDist();
  const results = await compare(preset);
  const dir = resolve(REPO_ROOT, 'docs/tuning');
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, `${name}.md`), report(name, preset, results));
  writeFileSync(
    resolve(dir, `${name}.json`),
    `${JSON.stringify({ date: new Date().toISOString(), machine: machineInfo(), seconds: SECONDS, results }, null, 2)}\n`,
  );
  log(`wrote docs/tuning/${name}.md`);
}

await main();
