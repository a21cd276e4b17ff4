import { existsSync } from 'node:fs';
import pino from 'pino';
import { type AppConfig, ConfigValidationError, loadConfig } from '../config/index.js';
import { type StrategyState, planOnnxExecution } from '../inference/index.js';
import { BertTokenizer, ModelBundleError, loadModelBundle, onnxFile } from '../model/index.js';

/** sysexits.h's EX_CONFIG: Kubernetes shows it as the container's exit code, apart from crashes (1). */
export const EX_CONFIG = 78;

/**
 * Everything a user can get wrong before the service starts, checked before Nest starts anything: the environment
 * (every bad variable at once), the model folder and version, the tokenizer, the model file of ONNX_PRECISION, and a
 * model too large for the container's memory limit. Each problem names its setting (a ConfigValidationError).
 */
export function checkStartup(env: Record<string, string | undefined>): AppConfig {
  const config = loadConfig(env);
  const { dir, version } = config.model;
  try {
    const bundle = loadModelBundle(dir, version);
    // Read again by the model module; a few milliseconds, so that a broken tokenizer.json is refused here too.
    BertTokenizer.fromFile(bundle.files.tokenizer, bundle.config.maxLength);
    const file = onnxFile(bundle, config.onnx.precision);
    if (!existsSync(file)) {
      const problem =
        config.onnx.precision === 'int8'
          ? `${file} does not exist: write it with \`npm run model:quantize\` (or import with --quantize), or unset ONNX_PRECISION`
          : `${file} does not exist (v1 serves the model's ONNX export)`;
      throw new ConfigValidationError([{ ...modelFileSetting(config), problem }]);
    }
    // Refuse at once, with the memory it needs, a model that cannot fit the container (instead of OOM kills).
    planOnnxExecution(config, file);
  } catch (error) {
    if (error instanceof ModelBundleError) {
      const value = error.variable === 'MODEL_VERSION' ? (version ?? null) : dir;
      throw new ConfigValidationError([{ variable: error.variable, value, problem: error.message }]);
    }
    throw error;
  }
  return config;
}

/**
 * A model file that ONNX Runtime could not load (corrupt, or not the model config.json describes) will not load on a
 * restart either: like Triton's default exit-on-error, the service stops instead of staying up and never ready.
 */
export function modelLoadProblem(config: AppConfig, state: StrategyState): ConfigValidationError | null {
  if (state.status !== 'failed') {
    return null;
  }
  return new ConfigValidationError([
    { ...modelFileSetting(config), problem: `the model failed to load: ${state.reason}` },
  ]);
}

/** The setting that chose v1's model file: ONNX_PRECISION=int8 for model.int8.onnx, else MODEL_DIR. */
function modelFileSetting(config: AppConfig): { variable: string; value: string } {
  return config.onnx.precision === 'int8'
    ? { variable: 'ONNX_PRECISION', value: 'int8' }
    : { variable: 'MODEL_DIR', value: config.model.dir };
}

/** One JSON line on stderr, in the service's log format (pino, level fatal), with every problem. */
export function logStartupProblems(error: ConfigValidationError): void {
  pino(pino.destination({ fd: 2, sync: true })).fatal({ problems: error.problems }, 'invalid configuration');
}
