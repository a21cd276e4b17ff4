/**
 * `npm run bench:latency`: one sentence through the bundled model, in process, no HTTP: tokenization (Hugging
 * Face tokenizers) + ONNX Runtime, median and tail of many runs after a warm-up. Writes docs/model-latency.md and
 * docs/model-latency.json. Intra-op threads: 1 (one request at a time gains nothing from more on a model this small,
 * and the service runs several requests side by side).
 *
 * `BENCH_BASELINE_ONNX=<file>[,<file>...]` adds ONNX Runtime alone on the bundled model.onnx against other files of
 * the same weights (say, the PyTorch exporter's), in alternating rounds, medians over rounds: what an exporter change
 * is worth.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { relative, resolve } from 'node:path';
import { OnnxSession } from '../src/inference/onnx/onnx-session.js';
import { BertTokenizer } from '../src/model/bert.tokenizer.js';
import { loadModelBundle } from '../src/model/model-bundle.js';
import { REPO_ROOT } from '../tools/common/sst2.js';
import { alternatingRounds } from './lib/load.js';
import { SENTENCES as REVIEWS } from './lib/sentences.js';
import { median } from './lib/service.js';

const RUNS = 2000;
const WARM_UP = 200;
const SENTENCES = {
  'contract example (7 tokens)': 'this is a bad example',
  'typical review sentence (30 tokens)':
    "it 's a charming and often affecting journey , even if the plot wanders and the ending feels a little too neat .",
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

async function main(): Promise<void> {
  const bundle = loadModelBundle(resolve(REPO_ROOT, 'models/sentiment_analysis'));
  const tokenizer = BertTokenizer.fromFile(bundle.files.tokenizer, bundle.config.maxLength);
  const session = await OnnxSession.create(bundle.files.onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const rows: {
    sentence: string;
    tokens: number;
    tokenizeMs: number;
    inferenceMs: number;
    totalMedianMs: number;
    totalP90Ms: number;
    totalP99Ms: number;
  }[] = [];
  for (const [name, sentence] of Object.entries(SENTENCES)) {
    const tokenize: number[] = [];
    const infer: number[] = [];
    const total: number[] = [];
    for (let i = 0; i < WARM_UP + RUNS; i++) {
      const t0 = performance.now();
      const batch = await tokenizer.encodeBatch([sentence]);
      const t1 = performance.now();
      await session.run(batch);
      const t2 = performance.now();
      if (i >= WARM_UP) {
        tokenize.push(t1 - t0);
        infer.push(t2 - t1);
        total.push(t2 - t0);
      }
    }
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const totalSorted = sorted(total);
    rows.push({
      sentence: name,
      tokens: (await tokenizer.encodeIds([sentence]))[0]!.length,
      tokenizeMs: percentile(sorted(tokenize), 0.5),
      inferenceMs: percentile(sorted(infer), 0.5),
      totalMedianMs: percentile(totalSorted, 0.5),
      totalP90Ms: percentile(totalSorted, 0.9),
      totalP99Ms: percentile(totalSorted, 0.99),
    });
  }
  const baseline = process.env.BENCH_BASELINE_ONNX
    ? await compareWith(
        process.env.BENCH_BASELINE_ONNX.split(',').map((file) => resolve(file)),
        session,
        tokenizer,
      )
    : null;
  await session.release();
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cpus: availableParallelism(), node: process.version };
  const result = {
    date: new Date().toISOString(),
    machine,
    runs: RUNS,
    warmUp: WARM_UP,
    model: `${bundle.name} v${bundle.version}`,
    rows,
    ...(baseline ? { baseline } : {}),
  };
  writeFileSync(resolve(REPO_ROOT, 'docs/model-latency.json'), `${JSON.stringify(result, null, 2)}\n`);
  const f = (x: number) => x.toFixed(3);
  const md = `# One sentence through the bundled model

Measured by \`npm run bench:latency\` (bench/model-latency.ts) on ${result.date.slice(0, 10)}: ${machine.cpu}, ${machine.cpus} CPUs, Node ${machine.node}.
In process, no HTTP: Hugging Face tokenizers, then ONNX Runtime (1 intra-op thread). ${RUNS} runs after ${WARM_UP} warm-up runs; milliseconds.

| sentence | tokens | tokenize (median) | ONNX Runtime (median) | total median | total p90 | total p99 |
|---|---|---|---|---|---|---|
${rows.map((r) => `| ${r.sentence} | ${r.tokens} | ${f(r.tokenizeMs)} | ${f(r.inferenceMs)} | **${f(r.totalMedianMs)}** | ${f(r.totalP90Ms)} | ${f(r.totalP99Ms)} |`).join('\n')}

Target: under 5 ms for one sentence. The machine is shared, so tails vary between runs; the medians are
the figure to compare. HTTP and batching figures are in docs/benchmarks.md.
${baseline ? baselineSection(baseline) : ''}`;
  writeFileSync(resolve(REPO_ROOT, 'docs/model-latency.md'), md);
  console.log(md);
}

interface BaselineComparison {
  readonly files: readonly string[];
  readonly rounds: number;
  /** µs per call: the bundled model.onnx first, then each file in order. */
  readonly rows: readonly { workload: string; us: readonly number[] }[];
}

const ROUNDS = 7;
const RUNS_PER_ROUND = 300;

/** ONNX Runtime alone, the bundled model.onnx and `files` in alternating rounds; µs per call, medians over rounds. */
async function compareWith(
  files: readonly string[],
  ours: OnnxSession,
  tokenizer: BertTokenizer,
): Promise<BaselineComparison> {
  const others = await Promise.all(
    files.map((file) => OnnxSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1 })),
  );
  const sessions = [ours, ...others];
  const workloads = [
    ['one sentence, 7 tokens', await tokenizer.encodeBatch([SENTENCES['contract example (7 tokens)']])],
    ['one sentence, 27 tokens', await tokenizer.encodeBatch([SENTENCES['typical review sentence (30 tokens)']])],
    ['16 review sentences, padded', await tokenizer.encodeBatch(REVIEWS.slice(0, 16))],
  ] as const;
  const rows = [];
  for (const [workload, batch] of workloads) {
    const runs = Math.max(20, Math.round(RUNS_PER_ROUND / batch.batchSize));
    const times = await alternatingRounds(sessions.length, ROUNDS, async (i) => {
      const session = sessions[i]!;
      for (let w = 0; w < 20; w++) {
        await session.run(batch);
      }
      const started = performance.now();
      for (let r = 0; r < runs; r++) {
        await session.run(batch);
      }
      return ((performance.now() - started) * 1000) / runs;
    });
    rows.push({ workload, us: times.map(median) });
  }
  await Promise.all(others.map((session) => session.release()));
  return { files: files.map((file) => relative(REPO_ROOT, file)), rounds: ROUNDS, rows };
}

function baselineSection({ files, rounds, rows }: BaselineComparison): string {
  return `
## Against other files of the same model

ONNX Runtime alone (no tokenizer), the bundled model.onnx against other files of the same weights
(\`BENCH_BASELINE_ONNX=${files.join(',')}\`), ${rounds} alternating rounds, medians over rounds; µs per call,
and the bundled file's time as a share of each other file's.

| workload | bundled model.onnx | ${files.map((file) => `\`${file}\``).join(' | ')} |
|---|---|${files.map(() => '---|').join('')}
${rows
  .map(
    (r) =>
      `| ${r.workload} | ${r.us[0]!.toFixed(0)} | ${r.us
        .slice(1)
        .map((us) => `${us.toFixed(0)} (${(r.us[0]! / us).toFixed(2)}×)`)
        .join(' | ')} |`,
  )
  .join('\n')}
`;
}

await main();
