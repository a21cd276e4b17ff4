/**
 * Runs a constants-only SavedModel (`saved_model.pb` bytes) in TensorFlow.js, so tests can check what TensorFlow
 * Serving would compute without TensorFlow: the protobuf is decoded with the same tensorflow.proto the exporter
 * writes with, every Const's value is moved into a tfjs weights buffer keyed by node name (tfjs ignores inline
 * Const values), and the GraphDef is handed to tfjs-converter as a graph model's `modelTopology`.
 *
 * Differences from TensorFlow to keep in mind: tfjs computes int64 as int32 (ids must fit), float64 as float32, and
 * Erf with a polynomial approximation (|error| ≈ 1e-7).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { type GraphModel, loadGraphModelSync } from '@tensorflow/tfjs-converter';
import {
  type AttrValueJson,
  type DataTypeName,
  decodeSavedModel,
  type NodeDefJson,
  type TensorInfoJson,
  type TensorProtoJson,
  type TensorShapeJson,
} from '../../tools/export/tf/tensorflow-proto.js';

// PROD only silences tfjs' console output (the "install tfjs-node" banner); it changes no computation.
tf.enableProdMode();

export class SavedModelRunnerError extends Error {
  override readonly name = 'SavedModelRunnerError';
}

/** A nested JSON array, as in a TF Serving request (`[[101, 2023, 102], ...]`) or response. */
export type NestedArray = number | boolean | NestedArray[];

/** A dense tensor in flat form: row-major `data` of `shape`. */
export interface FlatTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array | Uint8Array;
}

export interface SignatureTensor {
  /** Signature key, e.g. `input_ids` (what TF Serving's JSON names). */
  readonly alias: string;
  /** Graph tensor, e.g. `input_ids:0`. */
  readonly tensorName: string;
  readonly dtype: DataTypeName;
  /** Static shape with -1 for unknown dimensions; null when the signature gives none (unknown rank). */
  readonly shape: readonly number[] | null;
}

export interface ServingSignature {
  readonly key: string;
  readonly methodName: string;
  readonly inputs: readonly SignatureTensor[];
  readonly outputs: readonly SignatureTensor[];
}

type TfjsDType = 'float32' | 'int32' | 'bool';

const TFJS_DTYPES: Partial<Record<DataTypeName, TfjsDType>> = {
  DT_FLOAT: 'float32',
  DT_DOUBLE: 'float32',
  DT_HALF: 'float32',
  DT_INT32: 'int32',
  DT_INT64: 'int32',
  DT_INT16: 'int32',
  DT_INT8: 'int32',
  DT_UINT8: 'int32',
  DT_UINT16: 'int32',
  DT_BOOL: 'bool',
};

function tfjsDType(dtype: DataTypeName | undefined, where: string): TfjsDType {
  const mapped = dtype === undefined ? undefined : TFJS_DTYPES[dtype];
  if (mapped === undefined) {
    throw new SavedModelRunnerError(`${where}: dtype ${dtype ?? '(none)'} is not supported by this runner`);
  }
  return mapped;
}

function shapeOf(shape: TensorShapeJson | undefined): number[] | null {
  if (shape === undefined || shape.unknownRank === true) {
    return null;
  }
  return (shape.dim ?? []).map((dim) => dim.size ?? 0);
}

/** The values of a Const's TensorProto, widened or narrowed to what tfjs stores for its dtype. */
function constValues(
  tensor: TensorProtoJson,
  where: string,
): { dtype: TfjsDType; shape: number[]; values: ArrayLike<number> } {
  const shape = shapeOf(tensor.tensorShape);
  if (shape === null || shape.some((dim) => dim < 0)) {
    throw new SavedModelRunnerError(`${where}: a Const needs a fully defined shape`);
  }
  const count = shape.reduce((product, dim) => product * dim, 1);
  const dtype = tfjsDType(tensor.dtype, where);
  const content = tensor.tensorContent;
  const values = new Float64Array(count);
  if (content !== undefined && content.byteLength > 0) {
    const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
    const reader: Partial<Record<DataTypeName, [number, (offset: number) => number]>> = {
      DT_FLOAT: [4, (o) => view.getFloat32(o, true)],
      DT_DOUBLE: [8, (o) => view.getFloat64(o, true)],
      DT_INT32: [4, (o) => view.getInt32(o, true)],
      DT_INT64: [8, (o) => Number(view.getBigInt64(o, true))],
      DT_INT16: [2, (o) => view.getInt16(o, true)],
      DT_INT8: [1, (o) => view.getInt8(o)],
      DT_UINT8: [1, (o) => view.getUint8(o)],
      DT_UINT16: [2, (o) => view.getUint16(o, true)],
      DT_BOOL: [1, (o) => view.getUint8(o)],
    };
    const read = tensor.dtype === undefined ? undefined : reader[tensor.dtype];
    if (read === undefined) {
      throw new SavedModelRunnerError(`${where}: tensor_content of ${tensor.dtype ?? '(none)'} is not supported`);
    }
    const [size, get] = read;
    if (content.byteLength !== count * size) {
      throw new SavedModelRunnerError(`${where}: ${content.byteLength} bytes of tensor_content for ${count} elements`);
    }
    for (let i = 0; i < count; i++) {
      values[i] = get(i * size);
    }
  } else {
    if (tensor.halfVal !== undefined) {
      throw new SavedModelRunnerError(`${where}: half_val constants are not supported`);
    }
    const typed: readonly (number | boolean)[] =
      tensor.floatVal ?? tensor.doubleVal ?? tensor.intVal ?? tensor.int64Val ?? tensor.boolVal ?? [];
    if (typed.length > count) {
      throw new SavedModelRunnerError(`${where}: ${typed.length} values for ${count} elements`);
    }
    // TensorFlow fills a short value list with its last value (a single value is splatted); none means zeros.
    const last = typed.length > 0 ? Number(typed[typed.length - 1]) : 0;
    for (let i = 0; i < count; i++) {
      values[i] = i < typed.length ? Number(typed[i]) : last;
    }
  }
  if (dtype === 'int32' && values.some((v) => !Number.isInteger(v) || Math.abs(v) > 2 ** 31 - 1)) {
    throw new SavedModelRunnerError(`${where}: integer constant does not fit int32 (tfjs computes int64 as int32)`);
  }
  return { dtype, shape, values };
}

/** A GraphDef node as tfjs-converter reads it: like `NodeDefJson`, but `s` attrs as base64 strings. */
type TfjsNode = Omit<NodeDefJson, 'attr'> & { attr: Record<string, Record<string, unknown>> };

/** Attr values as tfjs-converter reads them: `s` bytes as base64 strings. */
function tfjsAttr(value: AttrValueJson): Record<string, unknown> {
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  return {
    ...value,
    ...(value.s !== undefined ? { s: base64(value.s) } : {}),
    ...(value.list?.s !== undefined ? { list: { ...value.list, s: value.list.s.map(base64) } } : {}),
  };
}

function signatureTensors(map: Record<string, TensorInfoJson> | undefined, where: string): SignatureTensor[] {
  return Object.entries(map ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([alias, info]) => {
      if (info.name === undefined) {
        throw new SavedModelRunnerError(`${where}.${alias}: only dense tensors (TensorInfo.name) are supported`);
      }
      return { alias, tensorName: info.name, dtype: info.dtype ?? 'DT_INVALID', shape: shapeOf(info.tensorShape) };
    });
}

export class SavedModelRunner {
  private constructor(
    private readonly model: GraphModel<tf.io.IOHandlerSync>,
    readonly signature: ServingSignature,
    /** Number of GraphDef nodes (Consts included). */
    readonly nodeCount: number,
  ) {}

  /**
   * Decodes `saved_model.pb` bytes and prepares `signatureKey` of the meta graph tagged exactly `tags`
   * (TensorFlow Serving's defaults: `["serve"]`, `serving_default`).
   */
  static fromBytes(
    bytes: Uint8Array,
    signatureKey = 'serving_default',
    tags: readonly string[] = ['serve'],
  ): SavedModelRunner {
    const savedModel = decodeSavedModel(bytes);
    const wanted = [...tags].sort().join(',');
    const metaGraph = (savedModel.metaGraphs ?? []).find(
      (graph) => [...(graph.metaInfoDef?.tags ?? [])].sort().join(',') === wanted,
    );
    if (metaGraph === undefined) {
      throw new SavedModelRunnerError(`no meta graph tagged { ${tags.join(', ')} }`);
    }
    const signatureDef = metaGraph.signatureDef?.[signatureKey];
    if (signatureDef === undefined) {
      throw new SavedModelRunnerError(`Serving signature name: "${signatureKey}" not found in signature def`);
    }
    const signature: ServingSignature = {
      key: signatureKey,
      methodName: signatureDef.methodName ?? '',
      inputs: signatureTensors(signatureDef.inputs, `${signatureKey}.inputs`),
      outputs: signatureTensors(signatureDef.outputs, `${signatureKey}.outputs`),
    };

    const graphDef = metaGraph.graphDef ?? {};
    const weightSpecs: tf.io.WeightsManifestEntry[] = [];
    const chunks: Uint8Array[] = [];
    const nodes: TfjsNode[] = (graphDef.node ?? []).map((node) => {
      const attr = Object.fromEntries(Object.entries(node.attr ?? {}).map(([key, value]) => [key, tfjsAttr(value)]));
      if (node.op !== 'Const') {
        return { ...node, attr };
      }
      const tensor = node.attr?.value?.tensor;
      if (tensor === undefined) {
        throw new SavedModelRunnerError(`Const ${node.name} has no value`);
      }
      if (tensor.dtype !== node.attr?.dtype?.type) {
        throw new SavedModelRunnerError(
          `Const ${node.name}: value dtype ${tensor.dtype} ≠ dtype attr ${node.attr?.dtype?.type}`,
        );
      }
      const { dtype, shape, values } = constValues(tensor, `Const ${node.name}`);
      weightSpecs.push({ name: node.name, shape, dtype });
      const data =
        dtype === 'float32'
          ? Float32Array.from(values)
          : dtype === 'int32'
            ? Int32Array.from(values)
            : Uint8Array.from(values);
      chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      // tfjs takes Const values from the weights only; drop the inline copy.
      const { value: _inline, ...rest } = attr;
      return { ...node, attr: rest };
    });
    const weightData = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
    let offset = 0;
    for (const chunk of chunks) {
      weightData.set(chunk, offset);
      offset += chunk.byteLength;
    }
    const model = loadGraphModelSync({
      modelTopology: { node: nodes, versions: graphDef.versions ?? { producer: 0 } },
      weightSpecs,
      weightData: weightData.buffer,
    });
    return new SavedModelRunner(model, signature, nodes.length);
  }

  /** Runs the signature on nested-array inputs keyed by signature alias; returns every output as nested arrays. */
  predict(feeds: Readonly<Record<string, NestedArray>>): Record<string, NestedArray> {
    return this.execute(
      feeds,
      (input, value) => tf.tensor(value as never, undefined, tfjsDType(input.dtype, input.alias)),
      (t): NestedArray => t.arraySync(),
    );
  }

  /** Like `predict`, with flat typed arrays (faster for large batches). */
  predictFlat(feeds: Readonly<Record<string, FlatTensor>>): Record<string, FlatTensor> {
    return this.execute(
      feeds,
      (input, value) => tf.tensor(value.data, [...value.shape], tfjsDType(input.dtype, input.alias)),
      (t) => ({ shape: t.shape, data: t.dataSync<'float32' | 'int32' | 'bool'>() }),
    );
  }

  dispose(): void {
    this.model.dispose();
  }

  private execute<In, Out>(
    feeds: Readonly<Record<string, In>>,
    toTensor: (input: SignatureTensor, value: In) => tf.Tensor,
    fromTensor: (tensor: tf.Tensor) => Out,
  ): Record<string, Out> {
    const known = new Set(this.signature.inputs.map((input) => input.alias));
    const extra = Object.keys(feeds).filter((alias) => !known.has(alias));
    if (extra.length > 0) {
      throw new SavedModelRunnerError(
        `inputs not in signature "${this.signature.key}": ${extra.join(', ')} (expected ${[...known].join(', ')})`,
      );
    }
    const created: tf.Tensor[] = [];
    try {
      const inputs: tf.NamedTensorMap = {};
      for (const input of this.signature.inputs) {
        const value = feeds[input.alias];
        if (value === undefined) {
          throw new SavedModelRunnerError(`Missing named input: ${input.alias}`);
        }
        const tensor = toTensor(input, value);
        created.push(tensor);
        inputs[input.tensorName] = tensor;
      }
      const names = this.signature.outputs.map((output) => output.tensorName);
      const result = this.model.execute(inputs, names);
      const tensors = Array.isArray(result) ? result : [result];
      created.push(...tensors);
      return Object.fromEntries(
        this.signature.outputs.map((output, i) => [output.alias, fromTensor(tensors[i] as tf.Tensor)]),
      );
    } finally {
      tf.dispose(created);
    }
  }
}
