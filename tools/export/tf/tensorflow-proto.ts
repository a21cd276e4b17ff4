/**
 * Encodes and decodes SavedModel protobufs with protobufjs, from tensorflow.proto beside this file.
 *
 * Messages are handled as plain objects in protobufjs' JSON form: lowerCamelCase field names (`tensorShape`,
 * `tensorContent`), enums as names (`'DT_FLOAT'`), int64 as JavaScript numbers, bytes as `Uint8Array`. That is also
 * the form tfjs-converter expects for a graph model's `modelTopology`, so a decoded `graphDef` can be handed to it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

export const TENSORFLOW_PROTO_PATH = fileURLToPath(new URL('./tensorflow.proto', import.meta.url));

export type DataTypeName =
  | 'DT_INVALID'
  | 'DT_FLOAT'
  | 'DT_DOUBLE'
  | 'DT_INT32'
  | 'DT_UINT8'
  | 'DT_INT16'
  | 'DT_INT8'
  | 'DT_STRING'
  | 'DT_COMPLEX64'
  | 'DT_INT64'
  | 'DT_BOOL'
  | 'DT_QINT8'
  | 'DT_QUINT8'
  | 'DT_QINT32'
  | 'DT_BFLOAT16'
  | 'DT_QINT16'
  | 'DT_QUINT16'
  | 'DT_UINT16'
  | 'DT_COMPLEX128'
  | 'DT_HALF'
  | 'DT_RESOURCE'
  | 'DT_VARIANT'
  | 'DT_UINT32'
  | 'DT_UINT64'
  | 'DT_FLOAT8_E5M2'
  | 'DT_FLOAT8_E4M3FN';

export interface TensorShapeJson {
  dim?: { size?: number; name?: string }[];
  unknownRank?: boolean;
}

export interface TensorProtoJson {
  dtype?: DataTypeName;
  tensorShape?: TensorShapeJson;
  versionNumber?: number;
  tensorContent?: Uint8Array;
  halfVal?: number[];
  floatVal?: number[];
  doubleVal?: number[];
  intVal?: number[];
  stringVal?: Uint8Array[];
  int64Val?: number[];
  boolVal?: boolean[];
  uint32Val?: number[];
  uint64Val?: number[];
}

export interface NameAttrListJson {
  name?: string;
  attr?: Record<string, AttrValueJson>;
}

export interface AttrValueJson {
  list?: {
    s?: Uint8Array[];
    i?: number[];
    f?: number[];
    b?: boolean[];
    type?: DataTypeName[];
    shape?: TensorShapeJson[];
    tensor?: TensorProtoJson[];
    func?: NameAttrListJson[];
  };
  s?: Uint8Array;
  i?: number;
  f?: number;
  b?: boolean;
  type?: DataTypeName;
  shape?: TensorShapeJson;
  tensor?: TensorProtoJson;
  func?: NameAttrListJson;
  placeholder?: string;
}

export interface NodeDefJson {
  name: string;
  op: string;
  input?: string[];
  device?: string;
  attr?: Record<string, AttrValueJson>;
}

export interface GraphDefJson {
  node?: NodeDefJson[];
  versions?: { producer?: number; minConsumer?: number; badConsumers?: number[] };
}

export interface TensorInfoJson {
  name?: string;
  cooSparse?: { valuesTensorName?: string; indicesTensorName?: string; denseShapeTensorName?: string };
  dtype?: DataTypeName;
  tensorShape?: TensorShapeJson;
}

export interface SignatureDefJson {
  inputs?: Record<string, TensorInfoJson>;
  outputs?: Record<string, TensorInfoJson>;
  methodName?: string;
  defaults?: Record<string, TensorProtoJson>;
}

export interface MetaGraphDefJson {
  metaInfoDef?: {
    metaGraphVersion?: string;
    tags?: string[];
    tensorflowVersion?: string;
    tensorflowGitVersion?: string;
    strippedDefaultAttrs?: boolean;
    functionAliases?: Record<string, string>;
  };
  graphDef?: GraphDefJson;
  signatureDef?: Record<string, SignatureDefJson>;
}

export interface SavedModelJson {
  savedModelSchemaVersion?: number;
  metaGraphs?: MetaGraphDefJson[];
}

let savedModelType: protobuf.Type | undefined;

function savedModelMessage(): protobuf.Type {
  // keepCase: false gives the lowerCamelCase JSON names used above (and by tfjs-converter).
  savedModelType ??= protobuf
    .parse(readFileSync(TENSORFLOW_PROTO_PATH, 'utf8'), { keepCase: false })
    .root.lookupType('tensorflow.SavedModel');
  return savedModelType;
}

/**
 * Serializes a SavedModel. protobufjs writes fields in field-number order and map entries in the objects' key
 * order, so callers that build maps with sorted keys get byte-identical output for identical input.
 */
export function encodeSavedModel(savedModel: SavedModelJson): Uint8Array {
  const type = savedModelMessage();
  const message = type.fromObject(savedModel);
  const bytes = type.encode(message).finish();
  // protobufjs hands back a Buffer (a view into a pool) under Node; return a plain, exactly-sized Uint8Array.
  return new Uint8Array(bytes);
}

/** Parses `saved_model.pb` bytes into the JSON form (fields left at their defaults are absent). */
export function decodeSavedModel(bytes: Uint8Array): SavedModelJson {
  const type = savedModelMessage();
  return type.toObject(type.decode(bytes), { enums: String, longs: Number });
}
