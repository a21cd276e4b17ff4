/**
 * What every exporter shares: a model version folder (config.json + model.safetensors, Hugging Face layout) → the
 * architecture IR graph, and the atomic write of an exported file.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { architectureFor } from './architectures/index.js';
import type { IrGraph } from './ir/graph.js';
import { SafetensorsFile, type WeightSource } from './safetensors.js';

export interface ModelGraph {
  readonly graph: IrGraph;
  readonly modelType: string;
}

/** Parses a JSON file; errors name the file. */
export function readJsonFile(path: string): unknown {
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

/**
 * Builds the graph from `<dir>/config.json` + `<dir>/model.safetensors`: a supported `model_type`, every weight
 * present with its shape, and no weight left unused.
 */
export function loadModelGraph(modelVersionDir: string): ModelGraph {
  const dir = resolve(modelVersionDir);
  const configPath = join(dir, 'config.json');
  const config = readJsonFile(configPath);
  // An unknown model_type fails before the (possibly large) weights are read.
  architectureFor(config, configPath);
  return buildModelGraph(config, configPath, SafetensorsFile.open(join(dir, 'model.safetensors')));
}

/**
 * Builds the graph from a parsed config.json (`configPath` is for error messages) and any weight source (a
 * safetensors file, or a checkpoint being imported): the same checks as `loadModelGraph`.
 */
export function buildModelGraph(config: unknown, configPath: string, weights: WeightSource): ModelGraph {
  const architecture = architectureFor(config, configPath);
  const graph = architecture.build(config, configPath, weights);
  // A checkpoint with more layers (or other parameters) than config.json describes would otherwise export a
  // silently truncated network.
  const unused = weights.unused().filter((name) => !architecture.ignoredWeights.some((pattern) => pattern.test(name)));
  if (unused.length > 0) {
    throw new Error(
      `${weights.origin}: ${unused.length} tensor(s) not used by the ${architecture.modelType} graph built from ${configPath}: ${unused.slice(0, 10).join(', ')}${unused.length > 10 ? ', ...' : ''} (does config.json match the weights?)`,
    );
  }
  return { graph, modelType: architecture.modelType };
}

/** Writes `bytes` to `target` atomically (temporary file in the same folder, then rename); returns the path. */
export function writeFileAtomic(target: string, bytes: Uint8Array): string {
  const path = resolve(target);
  mkdirSync(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, bytes);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  return path;
}
