/**
 * `npm run model:export-onnx [-- --model-dir models/sentiment_analysis] [--version N] [--out <file>] [--force]`
 *
 * Writes an ONNX model (opset 14; inputs `input_ids`, `attention_mask`, `token_type_ids` (BERT; DistilBERT has none)
 * int64 `[batch_size, sequence_length]`, output `logits` float32 `[batch_size, num_labels]`, as a Hugging Face
 * export) generated from `<model-dir>/<version>/config.json` + `model.safetensors` (model_type `bert` or
 * `distilbert`), without Python. Without `--version`,
 * the highest numeric version folder is exported; without `--out`, the file is the version folder's `model.onnx`.
 * An existing file written by another producer (a PyTorch or Optimum export) is only replaced with `--force`.
 * This is the one ONNX producer of the repository: `model:import` and the training pipeline (tools/train/train.sh) run
 * it too.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { externalDataPath, listVersions } from '../../src/model/model-bundle.js';
import { REPO_ROOT } from '../common/sst2.js';
import { ONNX_OPSET } from './onnx/onnx.emitter.js';
import { decodeModel } from './onnx/onnx-proto.js';
import {
  exportOnnxModel,
  ONNX_IR_VERSION,
  ONNX_MODEL_FILE,
  ONNX_PRODUCER_NAME,
  writeOnnxModelFile,
} from './onnx/onnx.writer.js';

export { buildOnnxModel } from './onnx/onnx.writer.js';

/** The `producer_name` of an existing ONNX file, or why it could not be read. */
function existingProducer(path: string): string {
  try {
    return decodeModel(readFileSync(path)).producerName ?? '(no producer_name)';
  } catch (error) {
    return `(unreadable: ${(error as Error).message})`;
  }
}

const USAGE = `usage: npm run model:export-onnx -- [--model-dir DIR] [--version N] [--out FILE] [--force]
  Writes FILE (default DIR/N/model.onnx; DIR defaults to models/sentiment_analysis, N to the highest version folder)
  from DIR/N/config.json and model.safetensors. An existing file is replaced only with --force.`;

function main(): void {
  const { values } = parseArgs({
    options: {
      'model-dir': { type: 'string', default: resolve(REPO_ROOT, 'models/sentiment_analysis') },
      version: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const modelDir = resolve(values['model-dir']);
  const versions = listVersions(modelDir);
  const version = values.version ?? versions.at(-1);
  if (version === undefined) {
    throw new Error(`${modelDir}: no numeric version folder (expected ${modelDir}/1/config.json, ...)`);
  }
  if (!versions.includes(version)) {
    throw new Error(`${modelDir}: version ${version} not found (available: ${versions.join(', ') || 'none'})`);
  }
  const target = resolve(values.out ?? resolve(modelDir, version, ONNX_MODEL_FILE));
  if (existsSync(target) && !values.force) {
    const producer = existingProducer(target);
    if (producer !== ONNX_PRODUCER_NAME) {
      throw new Error(
        `${target} exists and was written by ${producer}, not ${ONNX_PRODUCER_NAME}: pass --force to replace it, or --out <file> to write elsewhere`,
      );
    }
  }
  const started = performance.now();
  const { bytes, graph, modelType } = exportOnnxModel(resolve(modelDir, version));
  const written = writeOnnxModelFile(target, bytes);
  const ops = new Map<string, number>();
  for (const node of graph.nodes) {
    ops.set(node.op, (ops.get(node.op) ?? 0) + 1);
  }
  const describe = (v: (typeof graph.inputs)[number]) =>
    `${v.node} ${v.dtype} [${v.shape.map((dim, i) => (dim >= 0 ? String(dim) : (v.dimNames?.[i] ?? '?'))).join(', ')}]`;
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  console.log(
    [
      `wrote ${[written, externalDataPath(written)].filter((file) => existsSync(file)).join(', ')}`,
      `  ${modelType}, ONNX IR ${ONNX_IR_VERSION}, opset ${ONNX_OPSET}, ${bytes.byteLength} bytes, sha256 ${sha256}, ${Math.round(performance.now() - started)} ms`,
      `  ${graph.inputs.map(describe).join(', ')} -> ${graph.outputs.map(describe).join(', ')}`,
      `  IR nodes: ${[...ops].map(([op, count]) => `${op} ${count}`).join(', ')}`,
    ].join('\n'),
  );
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (error) {
    console.error(`model:export-onnx failed: ${(error as Error).message}`);
    process.exit(1);
  }
}
