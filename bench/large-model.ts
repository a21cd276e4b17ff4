/**
 * `npm run bench:large`: the service on a BERT-base-shaped model (12 layers × 768 hidden, random weights, generated
 * into .cache/bench/, never committed), with default settings, against raw ONNX Runtime on the same file and CPUs:
 * time to ready, peak RSS (against 1.5 × model.onnx + 300 MB), requests/s and p50/p99 at 1 and 16 connections.
 * Writes docs/large-model.md and docs/large-model.json.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../tools/common/sst2.js';
import { machineInfo } from './lib/machine.js';
import { load } from './lib/load.js';
import { onnxCeiling } from './lib/onnx-ceiling.js';
import { SENTENCES } from './lib/sentences.js';
import { ROUTE_V1, buildDist, startService, withProcess } from './lib/service.js';
import { BERT_BASE, syntheticBert } from './lib/synthetic-bert.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Settings to try against the defaults, e.g. BENCH_SERVICE_ENV='{"BATCH_MAX_SIZE":"16"}' (written into the report). */
const SERVICE_ENV = JSON.parse(process.env.BENCH_SERVICE_ENV ?? '{}') as Record<string, string>;
const SKIP_CEILING = process.env.BENCH_SKIP_CEILING === '1';
const log = (message: string) => console.error(`[bench:large] ${message}`);
const MB = 1e6;

async function main(): Promise<void> {
  const root = resolve(REPO_ROOT, '.cache/bench/bert-base');
  if (!existsSync(join(root, '1', 'model.onnx'))) {
    log('generating the BERT-base-shaped model (random weights)');
    if ((await syntheticBert(root, BERT_BASE)) === null) {
      throw new Error('the ONNX emitter (tools/export) is not available');
    }
  }
  const modelBytes = statSync(join(root, '1', 'model.onnx')).size;
  log('raw ONNX Runtime ceiling');
  const ceiling = SKIP_CEILING
    ? [{ layout: 'not measured', batchSize: 1, sentencesPerSecond: NaN }]
    : await onnxCeiling(root, 4);
  const best = ceiling.reduce((a, b) => (b.sentencesPerSecond > a.sentencesPerSecond ? b : a));
  buildDist();
  const bodies = SENTENCES.map((sentence) => JSON.stringify({ sentence }));
  log('the service, default settings');
  const service = await withProcess(startService('service', { MODEL_DIR: root, ...SERVICE_ENV }), async (s) => {
    const readyRss = s.peakRssMb();
    const rounds: Record<string, { requestsPerSecond: number; p50: number; p99: number; errors: number }> = {};
    for (const connections of [1, 16]) {
      const result = await load({ url: s.url, path: ROUTE_V1, connections, seconds: SECONDS, bodies });
      rounds[connections] = {
        requestsPerSecond: result.requestsPerSecond,
        p50: result.p50,
        p99: result.p99,
        errors: result.errors + result.non2xx,
      };
    }
    return { coldStartMs: s.coldStartMs, readyRssMb: readyRss, peakRssMb: s.peakRssMb(), rounds };
  });
  const budgetMb = (1.5 * modelBytes) / MB + 300;
  const result = {
    date: new Date().toISOString(),
    machine: machineInfo(),
    model: { shape: BERT_BASE, onnxBytes: modelBytes },
    ceiling,
    best,
    serviceEnv: SERVICE_ENV,
    service,
    targets: {
      peakRssBudgetMb: Math.round(budgetMb),
      peakRssOk: (service.peakRssMb ?? Infinity) <= budgetMb,
      throughputShareOfRaw: service.rounds[16]!.requestsPerSecond / best.sentencesPerSecond,
    },
  };
  writeFileSync(resolve(REPO_ROOT, 'docs/large-model.json'), `${JSON.stringify(result, null, 2)}\n`);
  const f = (n: number, digits = 0) => n.toFixed(digits);
  const md = `# A BERT-base-shaped model

\`npm run bench:large\` on ${result.date.slice(0, 10)} (${result.machine.cpus} CPUs): a model of BERT-base's shape (12 layers ×
768 hidden, random weights, the bundled tokenizer; model.onnx ${f(modelBytes / MB)} MB), served with default settings,
against raw ONNX Runtime on the same file and CPUs. Generated, never committed.

| | figure |
|---|---|
| execution plan (defaults) | see the service's \`execution plan\` log line: one session, intra-op threads across the CPUs |
| time to ready | ${f(service.coldStartMs / 1000, 1)} s |
| RSS when ready | ${service.readyRssMb === null ? 'n/a' : f(service.readyRssMb)} MB |
| peak RSS, whole run | ${service.peakRssMb === null ? 'n/a' : f(service.peakRssMb)} MB (target ≤ 1.5 × model.onnx + 300 MB = ${f(budgetMb)} MB: ${result.targets.peakRssOk ? 'met' : 'missed'}) |
| 1 connection | ${f(service.rounds[1]!.requestsPerSecond, 1)} requests/s, p50 ${f(service.rounds[1]!.p50)} ms, p99 ${f(service.rounds[1]!.p99)} ms |
| 16 connections | ${f(service.rounds[16]!.requestsPerSecond, 1)} requests/s, p50 ${f(service.rounds[16]!.p50)} ms, p99 ${f(service.rounds[16]!.p99)} ms, errors ${service.rounds[16]!.errors} |
| raw ONNX Runtime, best | ${f(best.sentencesPerSecond, 1)} sentences/s (${best.layout}, batches of ${best.batchSize}) |
| service at 16 connections / raw best | ${f(result.targets.throughputShareOfRaw * 100)}% (target ≥ 90%) |

Raw ONNX Runtime, sentences/s by layout and batch size:

| layout | ${[...new Set(ceiling.map((r) => r.batchSize))].join(' | ')} |
|---|${[...new Set(ceiling.map((r) => r.batchSize))].map(() => '---').join('|')}|
${[...new Set(ceiling.map((r) => r.layout))]
  .map(
    (layout) =>
      `| ${layout} | ${ceiling
        .filter((r) => r.layout === layout)
        .map((r) => f(r.sentencesPerSecond, 1))
        .join(' | ')} |`,
  )
  .join('\n')}
`;
  writeFileSync(resolve(REPO_ROOT, 'docs/large-model.md'), md);
  console.log(md);
}

await main();
