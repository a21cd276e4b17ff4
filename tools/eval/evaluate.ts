/**
 * `npm run model:eval [-- --model-dir models/sentiment_analysis] [--version 1] [--json]`
 *
 * Runs the shipped model.onnx with onnxruntime-node and the shipped tokenizer over SST-2 dev and prints accuracy
 * and the confusion matrix. Needs ../shared/datasets/sst2 (or SST2_DIR); exits 2 with a clear message without it.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { BertTokenizer } from '../../src/model/bert.tokenizer.js';
import { loadModelBundle } from '../../src/model/model-bundle.js';
import { toPredictions } from '../../src/model/classification.postprocessor.js';
import { OnnxSession } from '../../src/inference/onnx/onnx-session.js';
import { REPO_ROOT, hasSst2, readSst2, sst2Path } from '../common/sst2.js';

export interface EvaluationResult {
  readonly model: string;
  readonly version: string;
  readonly total: number;
  readonly correct: number;
  readonly accuracy: number;
  /** confusion[gold][predicted], label order as in id2label. */
  readonly confusion: number[][];
  readonly labels: readonly string[];
}

export async function evaluateOnDev(modelDir: string, version?: string, batchSize = 64): Promise<EvaluationResult> {
  const bundle = loadModelBundle(modelDir, version);
  const tokenizer = BertTokenizer.fromFile(bundle.files.tokenizer, bundle.config.maxLength);
  const session = await OnnxSession.create(bundle.files.onnx, { intraOpNumThreads: 0, interOpNumThreads: 1 });
  const labels = bundle.config.labels;
  const rows = readSst2('dev');
  const confusion = labels.map(() => labels.map(() => 0));
  try {
    for (let start = 0; start < rows.length; start += batchSize) {
      const chunk = rows.slice(start, start + batchSize);
      const logits = await session.run(await tokenizer.encodeBatch(chunk.map((row) => row.sentence)));
      toPredictions(logits, labels).forEach((prediction, i) => {
        const gold = (chunk[i] as (typeof rows)[number]).label;
        const row = confusion[gold] as number[];
        row[labels.indexOf(prediction.label)] = (row[labels.indexOf(prediction.label)] ?? 0) + 1;
      });
    }
  } finally {
    await session.release();
  }
  const correct = labels.reduce((sum, _, i) => sum + ((confusion[i] as number[])[i] ?? 0), 0);
  return {
    model: bundle.name,
    version: bundle.version,
    total: rows.length,
    correct,
    accuracy: correct / rows.length,
    confusion,
    labels,
  };
}

function format(result: EvaluationResult): string {
  const width = Math.max(...result.labels.map((label) => label.length), 9);
  const cell = (text: string | number) => String(text).padStart(width);
  const lines = [
    `${result.model} v${result.version} on SST-2 dev (${sst2Path('dev')})`,
    `accuracy: ${(100 * result.accuracy).toFixed(2)}% (${result.correct}/${result.total})`,
    '',
    `${cell('gold\\pred')} ${result.labels.map(cell).join(' ')}`,
    ...result.labels.map((label, i) => `${cell(label)} ${(result.confusion[i] as number[]).map(cell).join(' ')}`),
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'model-dir': { type: 'string', default: resolve(REPO_ROOT, 'models/sentiment_analysis') },
      version: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!hasSst2('dev')) {
    console.error(
      `SST-2 dev not found at ${sst2Path('dev')}: set SST2_DIR or place ../shared/datasets next to the repo.`,
    );
    process.exit(2);
  }
  const result = await evaluateOnDev(values['model-dir'], values.version);
  console.log(values.json ? JSON.stringify(result) : format(result));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
