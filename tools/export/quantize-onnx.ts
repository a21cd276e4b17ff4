/**
 * `npm run model:quantize [-- --model-dir models/sentiment_analysis] [--version N] [--check]`
 *
 * Writes `<model-dir>/<version>/model.int8.onnx`: the version's model.onnx with its MatMul/Gemm weights (per output
 * column) and embedding tables (per row) in int8, activations quantized at run time (tools/export/onnx/onnx.quantize.ts;
 * no Python). v1 serves it with ONNX_PRECISION=int8; TensorFlow Serving (v2) keeps serving the fp32 SavedModel.
 * Without `--version`, the highest numeric version folder. The same model.onnx always gives the same bytes.
 * `--check` writes nothing: it exits 1 when model.int8.onnx is missing or differs from what model.onnx gives.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { externalDataPath, listVersions } from '../../src/model/model-bundle.js';
import { REPO_ROOT } from '../common/sst2.js';
import { readOnnxModel, splitExternalData, writeOnnxFiles } from './onnx/onnx.external-data.js';
import { describeQuantization, INT8_MODEL_FILE, quantizeOnnxBytes } from './onnx/onnx.quantize.js';
import { ONNX_MODEL_FILE } from './onnx/onnx.writer.js';

const USAGE = 'usage: npm run model:quantize -- [--model-dir models/sentiment_analysis] [--version N] [--check]';

function main(): void {
  const { values } = parseArgs({
    options: {
      'model-dir': { type: 'string', default: resolve(REPO_ROOT, 'models/sentiment_analysis') },
      version: { type: 'string' },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  // npm run starts scripts in the package root; INIT_CWD is where the command was typed.
  const modelDir = resolve(process.env.INIT_CWD ?? process.cwd(), values['model-dir']);
  const versions = listVersions(modelDir);
  const version = values.version ?? versions.at(-1);
  if (version === undefined || !versions.includes(version)) {
    throw new Error(
      `${modelDir}: version ${version ?? '(any)'} not found (available: ${versions.join(', ') || 'none'})`,
    );
  }
  const source = resolve(modelDir, version, ONNX_MODEL_FILE);
  const target = resolve(modelDir, version, INT8_MODEL_FILE);
  if (!existsSync(source)) {
    throw new Error(`${source}: missing (npm run model:export-onnx writes it)`);
  }
  const started = performance.now();
  const input = readOnnxModel(source);
  const { bytes, report } = quantizeOnnxBytes(input);
  if (values.check) {
    const expected = splitExternalData(bytes, basename(externalDataPath(target)));
    const same = (path: string, want: Uint8Array | null) =>
      want === null ? !existsSync(path) : existsSync(path) && Buffer.from(want).equals(readFileSync(path));
    if (!existsSync(target) || !same(target, expected.model) || !same(externalDataPath(target), expected.data)) {
      console.error(`${target} is ${existsSync(target) ? 'out of date' : 'missing'}: run npm run model:quantize`);
      process.exit(1);
    }
    console.log(`${target} is up to date`);
    return;
  }
  const written = writeOnnxFiles(target, bytes);
  console.log(
    `wrote ${written.join(', ')}\n  ${describeQuantization(report, input.byteLength, bytes.byteLength)}, ${Math.round(performance.now() - started)} ms`,
  );
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (error) {
    console.error(`model:quantize failed: ${(error as Error).message}`);
    process.exit(1);
  }
}
