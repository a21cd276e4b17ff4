/**
 * `npm run model:eval [-- --model-dir models/sentiment_analysis] [--version 1] [--precision fp32|int8] [--json]`
 *
 * Runs the shipped model.onnx (or, with `--precision int8`, model.int8.onnx) with onnxruntime-node and the shipped tokenizer over SST-2 dev and prints accuracy
 * and the confusion matrix. Needs ../shared/datasets/sst2 (or SST2_DIR); exits 2 with a clear message without it.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { REPO_ROOT, hasSst2, sst2Path } from '../common/sst2.js';
import { type EvaluationResult, evaluateOnDev } from './sst2-dev.evaluation.js';

function format(result: EvaluationResult): string {
  const width = Math.max(...result.labels.map((label) => label.length), 9);
  const cell = (text: string | number) => String(text).padStart(width);
  const lines = [
    `${result.model} v${result.version} (${result.precision}) on SST-2 dev (${sst2Path('dev')})`,
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
      precision: { type: 'string', default: 'fp32' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: npm run model:eval -- [--model-dir DIR] [--version N] [--precision fp32|int8] [--json]\n' +
        '  SST-2 dev accuracy and confusion matrix of DIR/N/model.onnx (or model.int8.onnx); writes nothing.\n' +
        `  Reads SST-2 from ${sst2Path('dev')} (set SST2_DIR to a folder holding dev.tsv to use another copy).`,
    );
    return;
  }
  if (!hasSst2('dev')) {
    console.error(
      `SST-2 dev not found at ${sst2Path('dev')}: set SST2_DIR or place ../shared/datasets next to the repo.`,
    );
    process.exit(2);
  }
  const precision = values.precision;
  if (precision !== 'fp32' && precision !== 'int8') {
    console.error(`--precision must be fp32 or int8, not ${precision}`);
    process.exit(2);
  }
  const result = await evaluateOnDev(values['model-dir'], values.version, precision);
  console.log(values.json ? JSON.stringify(result) : format(result));
}

await main();
