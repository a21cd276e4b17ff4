/**
 * Hugging Face sequence-classification checkpoint folder (as `save_pretrained` writes it) → a new numeric version
 * folder of a served model, in the layout the service and TensorFlow Serving read:
 *
 *   config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json, vocab.txt
 *   model.safetensors   PyTorch names and layout, float32: the single source of truth the exports are built from
 *   model.onnx          the TypeScript ONNX export (v1)
 *   saved_model.pb      the constants-only SavedModel (v2, TensorFlow Serving)
 *   model.int8.onnx     with `quantize`: model.onnx with int8 weights (v1 with ONNX_PRECISION=int8)
 *
 * Order: config.json is validated, the weights are read (safetensors or Keras HDF5) and checked name by name and
 * shape by shape against the architecture, model.safetensors is written, the tokenizer files are copied or derived,
 * both exports are built from the written folder, and ONNX Runtime runs one sentence through the result. All of it
 * happens in a staging folder that only becomes the version folder at the end (tools/import/version-folder.ts).
 */
import { copyFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OnnxSession } from '../../src/inference/onnx/onnx-session.js';
import { BertTokenizer } from '../../src/model/bert.tokenizer.js';
import { externalDataPath, parseModelConfig } from '../../src/model/model-bundle.js';
import { buildModelGraph } from '../export/model-folder.js';
import { exportOnnxModel, ONNX_MODEL_FILE } from '../export/onnx/onnx.writer.js';
import { writeOnnxFiles } from '../export/onnx/onnx.external-data.js';
import { INT8_MODEL_FILE, quantizeOnnxBytes } from '../export/onnx/onnx.quantize.js';
import { encodeSafetensors } from '../export/safetensors.js';
import { buildSavedModel, SAVED_MODEL_FILE } from '../export/saved-model.export.js';
import { readCheckpointConfig } from './checkpoint-config.js';
import { type CheckpointWeights, readCheckpointWeights, SAFETENSORS_FILE } from './checkpoint-weights.js';
import { type ImportedTokenizer, TOKENIZER_FILES, writeTokenizerFiles } from './checkpoint-tokenizer.js';
import { chooseVersion, StagedVersion } from './version-folder.js';

export const CONFIG_FILE = 'config.json';
export const DEFAULT_MODEL_NAME = 'sentiment_analysis';

/** Every file an imported version folder has, in the order the summary lists them. */
export const VERSION_FOLDER_FILES = [
  CONFIG_FILE,
  TOKENIZER_FILES.tokenizer,
  TOKENIZER_FILES.config,
  TOKENIZER_FILES.specialTokens,
  TOKENIZER_FILES.vocab,
  SAFETENSORS_FILE,
  ONNX_MODEL_FILE,
  SAVED_MODEL_FILE,
] as const;

/** TensorFlow Serving model names are folder names; keep them to a portable set. */
const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Run through the imported model to check it loads and answers. */
const CHECK_SENTENCE = 'this is a bad example';

export interface ImportOptions {
  /** Checkpoint folder. */
  readonly from: string;
  /** Model (folder) name under `modelsDir`; default `sentiment_analysis`. */
  readonly name?: string;
  /** Version folder to create; default the highest existing + 1. */
  readonly version?: string;
  /** Folder of models; the version lands in `<modelsDir>/<name>/<version>`. */
  readonly modelsDir: string;
  /** Replace an existing version folder. */
  readonly force?: boolean;
  /** Also write model.int8.onnx (dynamic int8 quantization of model.onnx). */
  readonly quantize?: boolean;
}

export interface ImportResult {
  readonly source: string;
  readonly dir: string;
  readonly name: string;
  readonly version: string;
  readonly replaced: boolean;
  readonly modelType: string;
  readonly labels: readonly string[];
  /** Inputs of model.onnx, as ONNX Runtime reports them. */
  readonly inputs: readonly string[];
  readonly maxLength: number;
  readonly weights: {
    readonly file: string;
    readonly format: string;
    readonly tensors: number;
    readonly parameters: number;
    readonly transposed: number;
    readonly skipped: readonly string[];
  };
  readonly tokenizer: ImportedTokenizer;
  readonly files: readonly { readonly name: string; readonly bytes: number }[];
  /** Logits of the check sentence (and, with `quantize`, those of model.int8.onnx). */
  readonly check: { readonly sentence: string; readonly logits: readonly number[]; readonly int8Logits?: number[] };
}

/** Writes model.safetensors from the tensors the architecture read (PyTorch names, sorted, float32). */
function writeWeights(dir: string, weights: CheckpointWeights): { tensors: number; parameters: number } {
  const used = weights.used();
  writeFileSync(join(dir, SAFETENSORS_FILE), encodeSafetensors(used));
  const tensors = Object.values(used);
  return { tensors: tensors.length, parameters: tensors.reduce((sum, tensor) => sum + tensor.data.length, 0) };
}

/** Loads the staged folder the way the service does and runs one sentence through ONNX Runtime. */
async function checkServes(
  dir: string,
  labels: number,
  file = ONNX_MODEL_FILE,
): Promise<{ inputs: string[]; maxLength: number; logits: number[] }> {
  const { maxLength } = parseModelConfig(join(dir, CONFIG_FILE), join(dir, TOKENIZER_FILES.config));
  const tokenizer = BertTokenizer.fromFile(join(dir, TOKENIZER_FILES.tokenizer), maxLength);
  const session = await OnnxSession.create(join(dir, file), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const result = await session.run(await tokenizer.encodeBatch([CHECK_SENTENCE]));
    const logits = [...result.data];
    if (result.rows !== 1 || result.columns !== labels || !logits.every(Number.isFinite)) {
      throw new Error(
        `${join(dir, file)}: ONNX Runtime gave [${result.rows}, ${result.columns}] logits ${JSON.stringify(logits)} for one sentence and ${labels} labels`,
      );
    }
    return { inputs: session.inputNames, maxLength, logits };
  } finally {
    await session.release();
  }
}

export async function importCheckpoint(options: ImportOptions): Promise<ImportResult> {
  const source = resolve(options.from);
  if (!existsSync(source) || !statSync(source).isDirectory()) {
    throw new Error(`${source}: not a folder (expected a checkpoint folder written by save_pretrained)`);
  }
  const name = options.name ?? DEFAULT_MODEL_NAME;
  if (!MODEL_NAME_PATTERN.test(name)) {
    throw new Error(`--name ${JSON.stringify(name)}: use letters, digits, ".", "_" and "-" (a folder name)`);
  }
  const configPath = join(source, CONFIG_FILE);
  if (!existsSync(configPath)) {
    throw new Error(`${configPath}: missing (every save_pretrained folder has one)`);
  }
  const config = readCheckpointConfig(configPath);
  const modelDir = resolve(options.modelsDir, name);
  const version = chooseVersion(modelDir, options.version);
  const force = options.force ?? false;
  const replaced = existsSync(join(modelDir, version));
  const staged = StagedVersion.create(modelDir, version, force);
  try {
    copyFileSync(configPath, join(staged.dir, CONFIG_FILE));
    const weights = await readCheckpointWeights(source, config.architecture.ignoredWeights);
    // Every name and shape against config.json, errors naming the checkpoint's file and tensor.
    buildModelGraph(config.json, configPath, weights);
    const written = writeWeights(staged.dir, weights);
    const tokenizer = writeTokenizerFiles(source, config, staged.dir);
    // Both exports read the folder just written, as `npm run model:export*` would.
    const onnx = exportOnnxModel(staged.dir).bytes;
    writeOnnxFiles(join(staged.dir, ONNX_MODEL_FILE), onnx);
    writeFileSync(join(staged.dir, SAVED_MODEL_FILE), buildSavedModel(staged.dir));
    const served = await checkServes(staged.dir, config.labels.length);
    let int8Logits: number[] | undefined;
    if (options.quantize === true) {
      writeOnnxFiles(join(staged.dir, INT8_MODEL_FILE), quantizeOnnxBytes(onnx).bytes);
      int8Logits = (await checkServes(staged.dir, config.labels.length, INT8_MODEL_FILE)).logits;
    }
    // A large model's weights lie beside model.onnx (and model.int8.onnx) in their external data file.
    const files = [...VERSION_FOLDER_FILES, ...(int8Logits === undefined ? [] : [INT8_MODEL_FILE])]
      .flatMap((file) => [
        file,
        ...(existsSync(join(staged.dir, externalDataPath(file))) ? [externalDataPath(file)] : []),
      ])
      .map((file) => ({ name: file, bytes: statSync(join(staged.dir, file)).size }));
    const dir = staged.publish(force);
    return {
      source,
      dir,
      name,
      version,
      replaced,
      modelType: config.architecture.modelType,
      labels: config.labels,
      inputs: served.inputs,
      maxLength: served.maxLength,
      weights: {
        file: weights.origin,
        format: weights.format,
        ...written,
        transposed: weights.transposed,
        skipped: weights.skipped,
      },
      tokenizer,
      files,
      check: { sentence: CHECK_SENTENCE, logits: served.logits, ...(int8Logits === undefined ? {} : { int8Logits }) },
    };
  } catch (error) {
    staged.discard();
    throw error;
  }
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The few lines `npm run model:import` prints. */
export function formatSummary(result: ImportResult): string {
  const width = Math.max(...result.files.map((file) => file.name.length));
  const { weights } = result;
  const notes = [
    `${weights.tensors} tensors, ${weights.parameters.toLocaleString('en-US')} parameters`,
    ...(weights.transposed > 0 ? [`${weights.transposed} Keras kernels transposed`] : []),
    ...(weights.skipped.length > 0 ? [`dropped ${weights.skipped.join(', ')}`] : []),
  ];
  return [
    `${result.replaced ? 'replaced' : 'imported'} ${result.source} as ${result.name} version ${result.version}: ${result.dir}`,
    `  model: ${result.modelType}, weights from ${weights.file} (${weights.format}; ${notes.join('; ')})`,
    `  labels: ${result.labels.map((label, i) => `${i}=${label}`).join(', ')}`,
    `  inputs: ${result.inputs.join(', ')} (int64 [batch, sequence], at most ${result.maxLength} tokens) -> logits [batch, ${result.labels.length}]`,
    `  tokenizer: ${result.tokenizer.origin}, ${result.tokenizer.vocabSize} tokens`,
    `  check: ${JSON.stringify(result.check.sentence)} -> logits [${result.check.logits.map((v) => v.toFixed(4)).join(', ')}]` +
      (result.check.int8Logits === undefined
        ? ''
        : `, int8 [${result.check.int8Logits.map((v) => v.toFixed(4)).join(', ')}]`),
    `  files:`,
    ...result.files.map((file) => `    ${file.name.padEnd(width)}  ${formatBytes(file.bytes).padStart(10)}`),
  ].join('\n');
}
