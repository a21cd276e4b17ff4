/**
 * `npm run model:export [-- --model-dir models/sentiment_analysis] [--version N] [--out <base>]`
 *
 * Writes `<out or model-dir>/<version>/saved_model.pb`, a constants-only TensorFlow SavedModel for TensorFlow
 * Serving, generated from `<model-dir>/<version>/config.json` + `model.safetensors`. Without `--version`, the
 * highest numeric version folder is exported (TensorFlow Serving's "latest" policy). The default output is the
 * version folder itself, which is already TensorFlow Serving's `<base>/<name>/<version>/` layout.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { listVersions } from '../../src/model/model-bundle.js';
import { REPO_ROOT } from '../common/sst2.js';
import { exportSavedModel, writeSavedModelFile } from './saved-model.export.js';

export { buildSavedModel } from './saved-model.export.js';

const USAGE = `usage: npm run model:export -- [--model-dir DIR] [--version N] [--out BASE]
  Writes BASE/N/saved_model.pb (BASE defaults to DIR, models/sentiment_analysis; N to the highest version folder),
  a constants-only TensorFlow SavedModel for TF Serving, from DIR/N/config.json and model.safetensors.`;

function main(): void {
  const { values } = parseArgs({
    options: {
      'model-dir': { type: 'string', default: resolve(REPO_ROOT, 'models/sentiment_analysis') },
      version: { type: 'string' },
      out: { type: 'string' },
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
  const started = performance.now();
  const { bytes, graph, modelType } = exportSavedModel(resolve(modelDir, version));
  const target = writeSavedModelFile(resolve(values.out ?? modelDir, version), bytes);
  const ops = new Map<string, number>();
  for (const node of graph.nodes) {
    ops.set(node.op, (ops.get(node.op) ?? 0) + 1);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  console.log(
    [
      `wrote ${target}`,
      `  ${modelType}, ${bytes.byteLength} bytes, sha256 ${sha256}, ${Math.round(performance.now() - started)} ms`,
      `  signature serving_default: ${graph.inputs.map((v) => `${v.node} ${v.dtype} [${v.shape.join(', ')}]`).join(', ')} -> ${graph.outputs.map((v) => `${v.node} ${v.dtype} [${v.shape.join(', ')}]`).join(', ')}`,
      `  IR nodes: ${[...ops].map(([op, count]) => `${op} ${count}`).join(', ')}`,
    ].join('\n'),
  );
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (error) {
    console.error(`model:export failed: ${(error as Error).message}`);
    process.exit(1);
  }
}
