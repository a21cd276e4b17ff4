import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { z } from 'zod';

/**
 * A model bundle on disk, in the layout a data scientist hands over from Hugging Face, one folder per version:
 *
 *   <modelDir>/<version>/config.json       BertConfig / DistilBertConfig with id2label
 *                        tokenizer.json    Hugging Face tokenizers format
 *                        model.safetensors weights, Hugging Face names (the source of truth)
 *                        model.onnx        served by v1 (fp32)
 *                        model.int8.onnx   served by v1 with ONNX_PRECISION=int8 (npm run model:quantize)
 *                        model.onnx_data, model.int8.onnx_data
 *                                          a large model's weights (ONNX external data), beside the file they belong to
 *                        saved_model.pb    served by TensorFlow Serving (v2), which reads the same folder
 */
export interface ModelBundle {
  /** Folder name, e.g. `sentiment_analysis` (also TensorFlow Serving's model name). */
  readonly name: string;
  /** Numeric version folder, as TensorFlow Serving numbers versions. */
  readonly version: string;
  readonly dir: string;
  readonly config: ModelConfig;
  readonly files: {
    readonly config: string;
    readonly tokenizer: string;
    readonly onnx: string;
    /** The int8 quantization of model.onnx (may be absent). */
    readonly onnxInt8: string;
    readonly safetensors: string;
  };
}

/** Weights of the ONNX file v1 serves: model.onnx (fp32) or model.int8.onnx. TensorFlow Serving always serves fp32. */
export type ModelPrecision = 'fp32' | 'int8';

/**
 * Where a large ONNX file's weights lie: `<file>_data` beside it (ONNX external data, the name Hugging Face Optimum
 * uses). The model tools write it for models of 64 MiB of weights or more; ONNX Runtime maps it into memory.
 */
export function externalDataPath(onnxPath: string): string {
  return `${onnxPath}_data`;
}

/** Bytes of an ONNX file and of its external data file when it has one (0 when the file is missing). */
export function onnxFileBytes(onnxPath: string): number {
  const size = (path: string) => statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  return size(onnxPath) + size(externalDataPath(onnxPath));
}

/** The ONNX file of `bundle` for `precision`. */
export function onnxFile(bundle: ModelBundle, precision: ModelPrecision): string {
  return precision === 'int8' ? bundle.files.onnxInt8 : bundle.files.onnx;
}

export type ModelType = 'bert' | 'distilbert';

export interface ModelConfig {
  readonly modelType: ModelType;
  /** Label of each logit column, from `id2label` (`LABEL_i` when the config has none). */
  readonly labels: readonly string[];
  /** Longest input in tokens, special tokens included (`max_position_embeddings`, or less if the tokenizer says so). */
  readonly maxLength: number;
}

/** A model folder, version or file that cannot be served; `variable` is the setting that chose it. */
export class ModelBundleError extends Error {
  override readonly name = 'ModelBundleError';

  constructor(
    message: string,
    readonly variable: 'MODEL_DIR' | 'MODEL_VERSION' = 'MODEL_DIR',
  ) {
    super(message);
  }
}

const idToLabel = z
  .record(z.string().regex(/^\d+$/, 'id2label keys must be label indices "0", "1", ...'), z.string().min(1))
  .refine((map) => Object.keys(map).every((key, _, keys) => Number(key) < keys.length), {
    message: 'id2label keys must be 0..n-1 without gaps',
  });

const configSchema = z
  .object({
    model_type: z.enum(['bert', 'distilbert']),
    max_position_embeddings: z.number().int().positive(),
    id2label: idToLabel.optional(),
    num_labels: z.number().int().positive().optional(),
    problem_type: z.enum(['single_label_classification', 'multi_label_classification', 'regression']).nullish(),
  })
  .loose();

const tokenizerConfigSchema = z.object({ model_max_length: z.number().positive().optional() }).loose();

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ModelBundleError(`${path}: ${(error as Error).message}`);
  }
}

function describe(error: z.ZodError, path: string): string {
  return error.issues.map((issue) => `${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

export function parseModelConfig(configPath: string, tokenizerConfigPath?: string): ModelConfig {
  const parsed = configSchema.safeParse(readJson(configPath));
  if (!parsed.success) {
    throw new ModelBundleError(describe(parsed.error, configPath));
  }
  const config = parsed.data;
  if (config.problem_type === 'regression' || config.problem_type === 'multi_label_classification') {
    throw new ModelBundleError(
      `${configPath}: problem_type: "${config.problem_type}" is not served; only single_label_classification (softmax over labels)`,
    );
  }
  const labels = config.id2label
    ? Object.entries(config.id2label)
        .sort((a, b) => Number(a[0]) - Number(b[0]))
        .map(([, label]) => label)
    : Array.from({ length: config.num_labels ?? 2 }, (_, i) => `LABEL_${i}`);
  let maxLength = config.max_position_embeddings;
  if (tokenizerConfigPath && existsSync(tokenizerConfigPath)) {
    const tokenizerConfig = tokenizerConfigSchema.safeParse(readJson(tokenizerConfigPath));
    if (!tokenizerConfig.success) {
      throw new ModelBundleError(describe(tokenizerConfig.error, tokenizerConfigPath));
    }
    // model_max_length is 1e30 when unknown (Hugging Face's VERY_LARGE_INTEGER); only a smaller value limits us.
    maxLength = Math.min(maxLength, tokenizerConfig.data.model_max_length ?? Infinity);
  }
  return { modelType: config.model_type, labels, maxLength };
}

/** Numeric version folders of a model folder, ascending. */
export function listVersions(modelDir: string): string[] {
  if (!existsSync(modelDir)) {
    throw new ModelBundleError(`${modelDir}: model folder not found`);
  }
  return readdirSync(modelDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && /^\d+$/.test(entry.name))
    .map((entry) => entry.name)
    .sort((a, b) => Number(a) - Number(b));
}

/**
 * Opens `<modelDir>/<version>`; without a version, the highest numeric version folder (TensorFlow Serving's
 * default "latest" policy, so v1 and v2 serve the same version unless told otherwise).
 */
export function loadModelBundle(modelDir: string, version?: string): ModelBundle {
  const root = resolve(modelDir);
  const versions = listVersions(root);
  const chosen = version ?? versions.at(-1);
  if (chosen === undefined) {
    throw new ModelBundleError(`${root}: no numeric version folder (expected ${root}/1/config.json, ...)`);
  }
  if (!versions.includes(chosen)) {
    throw new ModelBundleError(
      `${root}: version ${chosen} not found (available: ${versions.join(', ') || 'none'})`,
      'MODEL_VERSION',
    );
  }
  const dir = resolve(root, chosen);
  const files = {
    config: resolve(dir, 'config.json'),
    tokenizer: resolve(dir, 'tokenizer.json'),
    onnx: resolve(dir, 'model.onnx'),
    onnxInt8: resolve(dir, 'model.int8.onnx'),
    safetensors: resolve(dir, 'model.safetensors'),
  };
  for (const required of [files.config, files.tokenizer]) {
    if (!existsSync(required)) {
      throw new ModelBundleError(`${required}: missing`);
    }
  }
  const config = parseModelConfig(files.config, resolve(dir, 'tokenizer_config.json'));
  return { name: basename(root), version: chosen, dir, config, files };
}
