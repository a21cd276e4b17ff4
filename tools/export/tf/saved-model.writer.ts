/**
 * Wraps an IR graph into a constants-only SavedModel that TensorFlow Serving loads from
 * `<base>/<name>/<version>/saved_model.pb` (no `variables/` folder, so no checkpoint restore runs):
 *
 *   SavedModel { saved_model_schema_version: 1, meta_graphs: [ {
 *     meta_info_def { tags: ["serve"] }
 *     graph_def { node: [...], versions { producer: 1569 } }
 *     signature_def { "serving_default": { inputs, outputs, method_name: "tensorflow/serving/predict" } } } ] }
 *
 * The bytes are a pure function of the graph: nodes in IR order, attr and signature maps in sorted key order,
 * constants as little-endian `tensor_content`.
 */
import type { IrGraph, Value } from '../ir/graph.js';
import { emitGraphDefNodes, tensorShape, tfDataType } from './graphdef.emitter.js';
import { encodeSavedModel, type SavedModelJson, type TensorInfoJson } from './tensorflow-proto.js';

export const SERVE_TAG = 'serve';
export const DEFAULT_SIGNATURE_KEY = 'serving_default';
export const PREDICT_METHOD_NAME = 'tensorflow/serving/predict';
/** GraphDef version written by TF 2.14; older servers accept a newer producer, and min_consumer stays 0. */
export const GRAPH_DEF_PRODUCER = 1569;

function tensorInfos(values: readonly Value[]): Record<string, TensorInfoJson> {
  const sorted = [...values].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  return Object.fromEntries(
    sorted.map((value) => [
      value.node,
      { name: `${value.node}:0`, dtype: tfDataType(value.dtype), tensorShape: tensorShape(value.shape) },
    ]),
  );
}

/** The SavedModel message for `graph`, with one `serving_default` predict signature over its inputs and outputs. */
export function savedModelProto(graph: IrGraph): SavedModelJson {
  return {
    savedModelSchemaVersion: 1,
    metaGraphs: [
      {
        metaInfoDef: { tags: [SERVE_TAG] },
        graphDef: { node: emitGraphDefNodes(graph), versions: { producer: GRAPH_DEF_PRODUCER } },
        signatureDef: {
          [DEFAULT_SIGNATURE_KEY]: {
            inputs: tensorInfos(graph.inputs),
            outputs: tensorInfos(graph.outputs),
            methodName: PREDICT_METHOD_NAME,
          },
        },
      },
    ],
  };
}

/** `saved_model.pb` bytes for `graph`. */
export function writeSavedModel(graph: IrGraph): Uint8Array {
  return encodeSavedModel(savedModelProto(graph));
}
