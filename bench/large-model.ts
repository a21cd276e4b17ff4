/**
 * `npm run bench:large`: the service on a BERT-base-shaped model (12 layers × 768 hidden, random weights, generated
 * into .cache/bench/, never committed), fp32 (model.onnx) and int8 (model.int8.onnx, `npm run model:quantize`'s
 * output), each with default settings otherwise, against raw ONNX Runtime and the transformers.js peer on the same
 * file and CPUs: time to ready, RSS (peak against 1.5 × model.onnx + 300 MB), requests/s and p50/p99 at 1, 16 and 64
 * connections. Writes docs/large-model.md and docs/large-model.json, and its summary into docs/benchmarks.md (a block
 * `npm run bench` keeps).
 *
 * BENCH_SECONDS (10) per round; BENCH_SKIP_CEILING=1 skips raw ONNX Runtime, BENCH_SKIP_PEER=1 the peer (to try
 * settings quickly); BENCH_SERVICE_ENV='{"K":"V"}' adds settings to both service runs (written into the report).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ModelPrecision, onnxFileBytes } from '../src/model/model-bundle.js';
import { REPO_ROOT } from '../tools/common/sst2.js';
import { readOnnxModel, writeOnnxFiles } from '../tools/export/onnx/onnx.external-data.js';
import { INT8_MODEL_FILE, quantizeOnnxBytes } from '../tools/export/onnx/onnx.quantize.js';
import { buildOnnxModel, writeOnnxModelFile } from '../tools/export/onnx/onnx.writer.js';
import { load } from './lib/load.js';
import { machineInfo } from './lib/machine.js';
import { type CeilingRow, onnxCeiling } from './lib/onnx-ceiling.js';
import { startPeer, transformersJsFolder } from './lib/peer.js';
import { LARGE_MODEL_SECTION, writeSection } from './lib/report-section.js';
import type { Running } from './lib/processes.js';
import { SENTENCES } from './lib/sentences.js';
import { ROUTE_V1, buildDist, startService, withProcess } from './lib/service.js';
import { BERT_BASE, syntheticBert } from './lib/synthetic-bert.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SERVICE_ENV = JSON.parse(process.env.BENCH_SERVICE_ENV ?? '{}') as Record<string, string>;
const SKIP_CEILING = process.env.BENCH_SKIP_CEILING === '1';
const SKIP_PEER = process.env.BENCH_SKIP_PEER === '1';
const CONNECTIONS = [1, 16, 64] as const;
const PRECISIONS: readonly ModelPrecision[] = ['fp32', 'int8'];
const log = (message: string) => console.error(`[bench:large] ${message}`);
const MB = 1e6;

interface Round {
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

interface ServerRun {
  readonly coldStartMs: number;
  readonly readyRssMb: number | null;
  readonly peakRssMb: number | null;
  readonly rounds: Record<string, Round>;
}

interface PrecisionRun {
  readonly file: string;
  readonly bytes: number;
  readonly ceiling: readonly CeilingRow[];
  /** Raw ONNX Runtime's best, and its best at the batch sizes 16 connections can form (≤ 16). */
  readonly best: CeilingRow | null;
  readonly bestUpTo16: CeilingRow | null;
  readonly service: ServerRun;
  readonly peer: ServerRun;
}

/** 1, 16 and 64 connections against `path` of a started server, then its RSS. */
async function measure(running: Running, path: string): Promise<ServerRun> {
  const readyRssMb = running.peakRssMb();
  const bodies = SENTENCES.map((sentence) => JSON.stringify({ sentence }));
  const rounds: Record<string, Round> = {};
  for (const connections of CONNECTIONS) {
    log(`${running.name}: ${connections} connections`);
    const r = await load({ url: running.url, path, connections, seconds: SECONDS, bodies });
    rounds[connections] = {
      requestsPerSecond: r.requestsPerSecond,
      p50: r.p50,
      p99: r.p99,
      errors: r.errors + r.non2xx,
    };
  }
  return { coldStartMs: running.coldStartMs, readyRssMb, peakRssMb: running.peakRssMb(), rounds };
}

const NOT_MEASURED: ServerRun = {
  coldStartMs: NaN,
  readyRssMb: null,
  peakRssMb: null,
  rounds: Object.fromEntries(CONNECTIONS.map((c) => [c, { requestsPerSecond: NaN, p50: NaN, p99: NaN, errors: 0 }])),
};

const bestOf = (rows: readonly CeilingRow[]) =>
  rows.reduce<CeilingRow | null>((a, b) => (a === null || b.sentencesPerSecond > a.sentencesPerSecond ? b : a), null);

async function main(): Promise<void> {
  const root = resolve(REPO_ROOT, '.cache/bench/bert-base');
  const version = join(root, '1');
  if (!existsSync(join(version, 'model.safetensors'))) {
    log('generating the BERT-base-shaped model (random weights)');
    if ((await syntheticBert(root, BERT_BASE)) === null) {
      throw new Error('the ONNX emitter (tools/export) is not available');
    }
  } else {
    // The weights are kept between runs; model.onnx is always the exporter's as it is now (its graph sets the speed).
    log('exporting model.onnx from the kept weights (npm run model:export-onnx)');
    writeOnnxModelFile(join(version, 'model.onnx'), buildOnnxModel(version));
  }
  // Always re-quantized, so the int8 figures are those of the quantizer as it is now.
  log('quantizing (npm run model:quantize)');
  const started = performance.now();
  writeOnnxFiles(join(version, INT8_MODEL_FILE), quantizeOnnxBytes(readOnnxModel(join(version, 'model.onnx'))).bytes);
  const quantizeMs = performance.now() - started;
  const peerFolder = resolve(REPO_ROOT, '.cache/bench/bert-base-transformers-js');
  if (!existsSync(join(peerFolder, 'onnx', 'model_quantized.onnx'))) {
    transformersJsFolder(version, peerFolder);
  }
  buildDist();
  const runs: Partial<Record<ModelPrecision, PrecisionRun>> = {};
  for (const precision of PRECISIONS) {
    const file = precision === 'int8' ? INT8_MODEL_FILE : 'model.onnx';
    log(`${precision}: raw ONNX Runtime ceiling`);
    const ceiling = SKIP_CEILING ? [] : await onnxCeiling(root, 4, precision);
    const service = await withProcess(
      startService(`service ${precision}`, { MODEL_DIR: root, ONNX_PRECISION: precision, ...SERVICE_ENV }),
      (s) => measure(s, ROUTE_V1),
    );
    const peer = SKIP_PEER
      ? NOT_MEASURED
      : await withProcess(
          startPeer(`transformers.js ${precision}`, peerFolder, precision === 'int8' ? 'q8' : 'fp32'),
          (p) => measure(p, '/'),
        );
    runs[precision] = {
      file,
      bytes: onnxFileBytes(join(version, file)),
      ceiling,
      best: bestOf(ceiling),
      bestUpTo16: bestOf(ceiling.filter((row) => row.batchSize <= 16)),
      service,
      peer,
    };
  }
  const fp32 = runs.fp32 as PrecisionRun;
  const int8 = runs.int8 as PrecisionRun;
  const rps = (run: PrecisionRun, connections: number) => run.service.rounds[connections]!.requestsPerSecond;
  const budgetMb = (1.5 * fp32.bytes) / MB + 300;
  const share = (run: PrecisionRun, row: CeilingRow | null) =>
    row === null ? null : rps(run, 16) / row.sentencesPerSecond;
  const result = {
    date: new Date().toISOString(),
    machine: machineInfo(),
    model: { shape: BERT_BASE },
    quantizeMs: Math.round(quantizeMs),
    serviceEnv: SERVICE_ENV,
    runs,
    targets: {
      peakRssBudgetMb: Math.round(budgetMb),
      peakRssOk: (fp32.service.peakRssMb ?? Infinity) <= budgetMb,
      throughputShareOfRaw: { fp32: share(fp32, fp32.best), int8: share(int8, int8.best) },
      throughputShareOfRawUpTo16: { fp32: share(fp32, fp32.bestUpTo16), int8: share(int8, int8.bestUpTo16) },
      int8FileShare: int8.bytes / fp32.bytes,
      int8Speedup16: rps(int8, 16) / rps(fp32, 16),
      int8PeakRssShare: (int8.service.peakRssMb ?? NaN) / (fp32.service.peakRssMb ?? NaN),
    },
  };
  writeFileSync(resolve(REPO_ROOT, 'docs/large-model.json'), `${JSON.stringify(result, null, 2)}\n`);
  const { full, summary } = report(result, fp32, int8);
  writeFileSync(resolve(REPO_ROOT, 'docs/large-model.md'), full);
  writeSection(resolve(REPO_ROOT, 'docs/benchmarks.md'), LARGE_MODEL_SECTION, summary);
  console.log(full);
}

function report(
  result: { date: string; machine: { cpus: number }; quantizeMs: number; targets: Record<string, unknown> },
  fp32: PrecisionRun,
  int8: PrecisionRun,
): { full: string; summary: string } {
  const t = result.targets as {
    peakRssBudgetMb: number;
    throughputShareOfRaw: Record<ModelPrecision, number | null>;
    throughputShareOfRawUpTo16: Record<ModelPrecision, number | null>;
    int8FileShare: number;
    int8Speedup16: number;
    int8PeakRssShare: number;
  };
  const f = (n: number | null | undefined, digits = 0) => (n === null || n === undefined ? 'n/a' : n.toFixed(digits));
  const pct = (n: number | null) => (n === null ? 'not measured' : `${f(100 * n)}%`);
  const ratio = (a: number | null, b: number | null) => (a === null || b === null ? 'n/a' : `${f(a / b, 2)}×`);
  const both = (label: string, value: (run: PrecisionRun) => number | null, digits = 0, unit = '') =>
    `| ${label} | ${f(value(fp32), digits)}${unit} | ${f(value(int8), digits)}${unit} | ${ratio(value(int8), value(fp32))} |`;
  const round = (server: 'service' | 'peer', c: number) => (run: PrecisionRun) =>
    run[server].rounds[c]!.requestsPerSecond;
  const latency = (server: 'service' | 'peer', c: number) => (run: PrecisionRun) =>
    `${f(run[server].rounds[c]!.p50)} / ${f(run[server].rounds[c]!.p99)}`;
  const sizes = [...new Set([...fp32.ceiling, ...int8.ceiling].map((r) => r.batchSize))];
  const ceilingRows = (run: PrecisionRun, precision: string) =>
    [...new Set(run.ceiling.map((r) => r.layout))].map(
      (layout) =>
        `| ${precision}, ${layout} | ${sizes
          .map((size) => f(run.ceiling.find((r) => r.layout === layout && r.batchSize === size)?.sentencesPerSecond, 1))
          .join(' | ')} |`,
    );
  const intro = `\`npm run bench:large\` on ${result.date.slice(0, 10)} (${result.machine.cpus} CPUs): a model of BERT-base's shape (12 layers ×
768 hidden, random weights, the bundled tokenizer), generated and never committed. fp32 is its model.onnx; int8 is
\`npm run model:quantize\`'s model.int8.onnx of it (${f(result.quantizeMs / 1000, 1)} s to write); each keeps its weights in
a \`_data\` file beside it (ONNX external data, as \`npm run model:import\` writes large models), and "model file" counts
both. The service runs with
default settings (\`ONNX_PRECISION=int8\` for the int8 column); the peer is the transformers.js server (bench/servers/) on
the same file (\`dtype: 'q8'\` loads the same model.int8.onnx). ${SECONDS} s per round, rounds run one after another.`;
  const main = `| | fp32 | int8 | int8 / fp32 |
|---|---|---|---|
${both('model file, MB', (r) => r.bytes / MB, 1)}
${both('service: time to ready, s', (r) => r.service.coldStartMs / 1000, 1)}
${both('service: RSS when ready, MB', (r) => r.service.readyRssMb)}
${both('service: peak RSS, whole run, MB', (r) => r.service.peakRssMb)}
${CONNECTIONS.map((c) => both(`service: ${c} connection${c > 1 ? 's' : ''}, requests/s`, round('service', c), 1)).join('\n')}
${CONNECTIONS.map((c) => `| service: ${c} connection${c > 1 ? 's' : ''}, p50 / p99 ms | ${latency('service', c)(fp32)} | ${latency('service', c)(int8)} | |`).join('\n')}
${both('raw ONNX Runtime, best sentences/s', (r) => r.best?.sentencesPerSecond ?? null, 1)}
${both('raw ONNX Runtime, best at batches ≤ 16', (r) => r.bestUpTo16?.sentencesPerSecond ?? null, 1)}
| service at 16 connections / raw best | ${pct(t.throughputShareOfRaw.fp32)} | ${pct(t.throughputShareOfRaw.int8)} | |
| service at 16 connections / raw at batches ≤ 16 | ${pct(t.throughputShareOfRawUpTo16.fp32)} | ${pct(t.throughputShareOfRawUpTo16.int8)} | |
${both('peer: time to ready, s', (r) => r.peer.coldStartMs / 1000, 1)}
${both('peer: peak RSS, MB', (r) => r.peer.peakRssMb)}
${CONNECTIONS.map((c) => both(`peer: ${c} connection${c > 1 ? 's' : ''}, requests/s`, round('peer', c), 1)).join('\n')}
${CONNECTIONS.map((c) => `| peer: ${c} connection${c > 1 ? 's' : ''}, p50 / p99 ms | ${latency('peer', c)(fp32)} | ${latency('peer', c)(int8)} | |`).join('\n')}

Targets: fp32 peak RSS ≤ 1.5 × model.onnx + 300 MB = ${t.peakRssBudgetMb} MB: ${f(fp32.service.peakRssMb)} MB;
int8 file ≤ 30% of fp32: ${pct(t.int8FileShare)}; int8 throughput at 16 connections ≥ 1.8 × fp32: ${f(t.int8Speedup16, 2)}×;
int8 peak RSS ≤ 40% of fp32: ${pct(t.int8PeakRssShare)}; service at 16 connections ≥ 90% of raw ONNX Runtime's best.`;
  const raw = `Raw ONNX Runtime, sentences/s by layout and batch size (batches of sentences of similar length):

| precision, layout | ${sizes.join(' | ')} |
|---|${sizes.map(() => '---').join('|')}|
${[...ceilingRows(fp32, 'fp32'), ...ceilingRows(int8, 'int8')].join('\n')}`;
  return {
    full: `# A BERT-base-shaped model, fp32 and int8\n\n${intro}\n\n${main}\n\n${raw}\n`,
    summary: `## A BERT-base-shaped model, fp32 and int8\n\n${intro} Details: [large-model.md](large-model.md).\n\n${main}\n`,
  };
}

await main();
