/**
 * Model version folder (config.json + model.safetensors, Hugging Face layout) → `saved_model.pb` bytes, and the
 * atomic write of those bytes into TensorFlow Serving's `<base>/<version>/` layout.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { architectureFor } from './architectures/index.js';
import type { IrGraph } from './ir/graph.js';
import { SafetensorsFile } from './safetensors.js';
import { writeSavedModel } from './tf/saved-model.writer.js';

export const SAVED_MODEL_FILE = 'saved_model.pb';

export interface SavedModelExport {
  readonly bytes: Uint8Array;
  readonly graph: IrGraph;
  readonly modelType: string;
}

function readConfig(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${path}: cannot read: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: invalid JSON: ${(error as Error).message}`);
  }
}

/** Builds the graph from `<dir>/config.json` + `<dir>/model.safetensors` and serializes it. */
export function exportSavedModel(modelVersionDir: string): SavedModelExport {
  const dir = resolve(modelVersionDir);
  const configPath = join(dir, 'config.json');
  const config = readConfig(configPath);
  const architecture = architectureFor(config, configPath);
  const weights = SafetensorsFile.open(join(dir, 'model.safetensors'));
  const graph = architecture.build(config, configPath, weights);
  // A checkpoint with more layers (or other parameters) than config.json describes would otherwise export a
  // silently truncated network.
  const unused = weights.unused().filter((name) => !architecture.ignoredWeights.some((pattern) => pattern.test(name)));
  if (unused.length > 0) {
    throw new Error(
      `${weights.origin}: ${unused.length} tensor(s) not used by the ${architecture.modelType} graph built from ${configPath}: ${unused.slice(0, 10).join(', ')}${unused.length > 10 ? ', ...' : ''} (does config.json match the weights?)`,
    );
  }
  return { bytes: writeSavedModel(graph), graph, modelType: architecture.modelType };
}

/** `saved_model.pb` bytes for a model version folder; the same folder contents always give the same bytes. */
export function buildSavedModel(modelVersionDir: string): Uint8Array {
  return exportSavedModel(modelVersionDir).bytes;
}

/** Writes `bytes` to `<versionDir>/saved_model.pb` atomically (temporary file in the same folder, then rename). */
export function writeSavedModelFile(versionDir: string, bytes: Uint8Array): string {
  mkdirSync(versionDir, { recursive: true });
  const target = join(versionDir, SAVED_MODEL_FILE);
  const temporary = join(versionDir, `.${SAVED_MODEL_FILE}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, bytes);
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  return target;
}
