/**
 * Model version folder (config.json + model.safetensors, Hugging Face layout) → `saved_model.pb` bytes, and the
 * atomic write of those bytes into TensorFlow Serving's `<base>/<version>/` layout.
 */
import { join } from 'node:path';
import type { IrGraph } from './ir/graph.js';
import { loadModelGraph, writeFileAtomic } from './model-folder.js';
import { writeSavedModel } from './tf/saved-model.writer.js';

export const SAVED_MODEL_FILE = 'saved_model.pb';

export interface SavedModelExport {
  readonly bytes: Uint8Array;
  readonly graph: IrGraph;
  readonly modelType: string;
}

/** Builds the graph from `<dir>/config.json` + `<dir>/model.safetensors` and serializes it. */
export function exportSavedModel(modelVersionDir: string): SavedModelExport {
  const { graph, modelType } = loadModelGraph(modelVersionDir);
  return { bytes: writeSavedModel(graph), graph, modelType };
}

/** `saved_model.pb` bytes for a model version folder; the same folder contents always give the same bytes. */
export function buildSavedModel(modelVersionDir: string): Uint8Array {
  return exportSavedModel(modelVersionDir).bytes;
}

/** Writes `bytes` to `<versionDir>/saved_model.pb` atomically (temporary file in the same folder, then rename). */
export function writeSavedModelFile(versionDir: string, bytes: Uint8Array): string {
  return writeFileAtomic(join(versionDir, SAVED_MODEL_FILE), bytes);
}
