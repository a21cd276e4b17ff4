/**
 * `npm run model:import -- --from <checkpoint dir> [--name sentiment_analysis] [--version N] [--models-dir models] [--force] [--quantize]`
 *
 * Imports a Hugging Face sequence-classification checkpoint folder (BERT or DistilBERT, as `save_pretrained` writes
 * it: config.json, model.safetensors or tf_model.h5, tokenizer.json or vocab.txt + tokenizer_config.json) as
 * `<models-dir>/<name>/<version>/` with model.safetensors, model.onnx and saved_model.pb generated without Python.
 * Without `--version`, the version is the highest existing one + 1 (1 for a new model); an existing version is only
 * replaced with `--force`. Nothing is left behind when the import fails. Relative paths are taken from the folder
 * `npm run` was started in. `--quantize` also writes model.int8.onnx (as `npm run model:quantize` does).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../common/sst2.js';
import { DEFAULT_MODEL_NAME, formatSummary, importCheckpoint } from './import-checkpoint.js';

const USAGE =
  'usage: npm run model:import -- --from <checkpoint dir> [--name sentiment_analysis] [--version N] [--models-dir models] [--force] [--quantize]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      from: { type: 'string' },
      name: { type: 'string', default: DEFAULT_MODEL_NAME },
      version: { type: 'string' },
      'models-dir': { type: 'string' },
      force: { type: 'boolean', default: false },
      quantize: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.from === undefined) {
    throw new Error(`--from is required\n${USAGE}`);
  }
  // npm run starts scripts in the package root; INIT_CWD is where the command was typed.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const result = await importCheckpoint({
    from: resolve(cwd, values.from),
    name: values.name,
    version: values.version,
    modelsDir: values['models-dir'] === undefined ? resolve(REPO_ROOT, 'models') : resolve(cwd, values['models-dir']),
    force: values.force,
    quantize: values.quantize,
  });
  console.log(formatSummary(result));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`model:import failed: ${(error as Error).message}`);
    process.exit(1);
  });
}
