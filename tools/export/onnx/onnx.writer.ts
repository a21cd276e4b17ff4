/**
 * Model version folder (config.json + model.safetensors, Hugging Face layout) → `model.onnx` bytes, and the atomic
 * write of those bytes:
 *
 *   ModelProto { ir_version: 7, opset_import: [{ domain: "", version: 14 }],
 *                producer_name: "sentiment-analysis-export", producer_version: "1",
 *                graph { name: <model_type>, node: [...], initializer: [...], input: [...], output: [...] } }
 *
 * IR version 7 is the one ONNX released together with opset 14 (ONNX 1.9), and what the PyTorch exporter wrote
 * for the committed PyTorch model.onnx; nothing emitted needs a later IR version. The bytes are a pure function
 * of the folder's contents: nodes in IR order, attributes sorted by name, weights as little-endian `raw_data`.
 */
import type { IrGraph } from '../ir/graph.js';
import { loadModelGraph } from '../model-folder.js';
import { writeOnnxFiles } from './onnx.external-data.js';
import { emitOnnxGraph, ONNX_OPSET } from './onnx.emitter.js';
import { encodeModel, type ModelJson } from './onnx-proto.js';

export const ONNX_MODEL_FILE = 'model.onnx';
export const ONNX_IR_VERSION = 7;
export const ONNX_PRODUCER_NAME = 'sentiment-analysis-export';
/** Revision of this exporter's output; bump it when the same folder starts giving a different graph. */
export const ONNX_PRODUCER_VERSION = '1';

/** The ModelProto for `graph`, importing the default ONNX domain at `ONNX_OPSET`. */
export function onnxModelProto(graph: IrGraph, graphName: string): ModelJson {
  return {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: ONNX_PRODUCER_NAME,
    producerVersion: ONNX_PRODUCER_VERSION,
    graph: emitOnnxGraph(graph, graphName),
  };
}

/** `model.onnx` bytes for `graph`. */
export function writeOnnxModel(graph: IrGraph, graphName: string): Uint8Array {
  return encodeModel(onnxModelProto(graph, graphName));
}

export interface OnnxModelExport {
  readonly bytes: Uint8Array;
  readonly graph: IrGraph;
  readonly modelType: string;
}

/**
 * Builds the graph from `<dir>/config.json` + `<dir>/model.safetensors` (the same checks as the SavedModel export:
 * a supported `model_type`, every weight present with its shape, no weight left unused) and serializes it.
 */
export function exportOnnxModel(modelVersionDir: string): OnnxModelExport {
  const { graph, modelType } = loadModelGraph(modelVersionDir);
  return { bytes: writeOnnxModel(graph, modelType), graph, modelType };
}

/** `model.onnx` bytes for a model version folder; the same folder contents always give the same bytes. */
export function buildOnnxModel(modelVersionDir: string): Uint8Array {
  return exportOnnxModel(modelVersionDir).bytes;
}

/**
 * Writes the model `bytes` (weights inline) to `target` atomically, its weights in `<target>_data` when they are large
 * (onnx.external-data.ts); returns the model file's path.
 */
export function writeOnnxModelFile(target: string, bytes: Uint8Array): string {
  return writeOnnxFiles(target, bytes)[0] as string;
}
