/**
 * Accuracy and confusion matrix of a model bundle's ONNX export on SST-2 dev, through the service's own
 * tokenizer, ONNX Runtime wrapper and post-processing (the code path v1 serves with).
 */
import { BertTokenizer } from '../../src/model/bert.tokenizer.js';
import { loadModelBundle, type ModelPrecision, onnxFile } from '../../src/model/model-bundle.js';
import { toPredictions } from '../../src/model/classification.postprocessor.js';
import { OnnxSession } from '../../src/inference/onnx/onnx-session.js';
import { readSst2 } from '../common/sst2.js';

export interface EvaluationResult {
  readonly model: string;
  readonly version: string;
  readonly precision: ModelPrecision;
  readonly total: number;
  readonly correct: number;
  readonly accuracy: number;
  /** confusion[gold][predicted], label order as in id2label. */
  readonly confusion: number[][];
  readonly labels: readonly string[];
}

export async function evaluateOnDev(
  modelDir: string,
  version?: string,
  precision: ModelPrecision = 'fp32',
  batchSize = 64,
): Promise<EvaluationResult> {
  const bundle = loadModelBundle(modelDir, version);
  const tokenizer = BertTokenizer.fromFile(bundle.files.tokenizer, bundle.config.maxLength);
  const session = await OnnxSession.create(onnxFile(bundle, precision), { intraOpNumThreads: 0, interOpNumThreads: 1 });
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
    precision,
    total: rows.length,
    correct,
    accuracy: correct / rows.length,
    confusion,
    labels,
  };
}
