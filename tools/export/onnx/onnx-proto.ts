/**
 * Encodes and decodes ONNX `ModelProto` messages with protobufjs, from onnx.proto beside this file.
 *
 * Messages are handled as plain objects in protobufjs' JSON form: lowerCamelCase field names (`opType`,
 * `rawData`), `AttributeProto.type` and `TensorProto.dataLocation` as enum names (`'INTS'`), int64 as JavaScript
 * numbers, bytes as `Uint8Array`. `TensorProto.data_type` and `TypeProto.Tensor.elem_type` are plain int32 fields in
 * ONNX's schema; `onnxDataType` maps a `TensorProto.DataType` name to its number, read from the schema's enum.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

export const ONNX_PROTO_PATH = fileURLToPath(new URL('./onnx.proto', import.meta.url));

export type OnnxDataTypeName =
  | 'UNDEFINED'
  | 'FLOAT'
  | 'UINT8'
  | 'INT8'
  | 'UINT16'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'STRING'
  | 'BOOL'
  | 'FLOAT16'
  | 'DOUBLE'
  | 'UINT32'
  | 'UINT64'
  | 'COMPLEX64'
  | 'COMPLEX128'
  | 'BFLOAT16'
  | 'FLOAT8E4M3FN'
  | 'FLOAT8E4M3FNUZ'
  | 'FLOAT8E5M2'
  | 'FLOAT8E5M2FNUZ'
  | 'UINT4'
  | 'INT4'
  | 'FLOAT4E2M1'
  | 'FLOAT8E8M0';

export type AttributeTypeName =
  | 'UNDEFINED'
  | 'FLOAT'
  | 'INT'
  | 'STRING'
  | 'TENSOR'
  | 'GRAPH'
  | 'SPARSE_TENSOR'
  | 'TYPE_PROTO'
  | 'FLOATS'
  | 'INTS'
  | 'STRINGS'
  | 'TENSORS'
  | 'GRAPHS'
  | 'SPARSE_TENSORS'
  | 'TYPE_PROTOS';

export interface StringStringEntryJson {
  key?: string;
  value?: string;
}

export interface TensorJson {
  dims?: number[];
  /** A `TensorProto.DataType` number (see `onnxDataType`). */
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  stringData?: Uint8Array[];
  int64Data?: number[];
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  externalData?: StringStringEntryJson[];
  dataLocation?: 'DEFAULT' | 'EXTERNAL';
  doubleData?: number[];
  uint64Data?: number[];
}

export interface DimensionJson {
  dimValue?: number;
  dimParam?: string;
  denotation?: string;
}

export interface TypeJson {
  tensorType?: { elemType?: number; shape?: { dim?: DimensionJson[] } };
  denotation?: string;
}

export interface ValueInfoJson {
  name?: string;
  type?: TypeJson;
  docString?: string;
}

export interface AttributeJson {
  name?: string;
  refAttrName?: string;
  docString?: string;
  type?: AttributeTypeName;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorJson;
  g?: GraphJson;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: TensorJson[];
  graphs?: GraphJson[];
}

export interface NodeJson {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: AttributeJson[];
  docString?: string;
}

export interface GraphJson {
  node?: NodeJson[];
  name?: string;
  initializer?: TensorJson[];
  docString?: string;
  input?: ValueInfoJson[];
  output?: ValueInfoJson[];
  valueInfo?: ValueInfoJson[];
}

export interface OperatorSetIdJson {
  domain?: string;
  version?: number;
}

export interface ModelJson {
  irVersion?: number;
  opsetImport?: OperatorSetIdJson[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: GraphJson;
  metadataProps?: StringStringEntryJson[];
}

let onnxRoot: protobuf.Root | undefined;

/** The parsed schema (package `onnx`), e.g. to look up a message type by name. */
export function onnxSchema(): protobuf.Root {
  // keepCase: false gives the lowerCamelCase JSON names used above.
  onnxRoot ??= protobuf.parse(readFileSync(ONNX_PROTO_PATH, 'utf8'), { keepCase: false }).root;
  return onnxRoot;
}

function modelMessage(): protobuf.Type {
  return onnxSchema().lookupType('onnx.ModelProto');
}

/** The `TensorProto.DataType` number of a data type name, from the schema's enum (`FLOAT` → 1, `INT64` → 7). */
export function onnxDataType(name: OnnxDataTypeName): number {
  const value = onnxSchema().lookupEnum('onnx.TensorProto.DataType').values[name];
  if (value === undefined) {
    throw new Error(`onnx.proto has no TensorProto.DataType ${name}`);
  }
  return value;
}

/** The name of a `TensorProto.DataType` number (or the number itself, as a string, if the schema lacks it). */
export function onnxDataTypeName(value: number): string {
  return onnxSchema().lookupEnum('onnx.TensorProto.DataType').valuesById[value] ?? String(value);
}

/**
 * Serializes a model. protobufjs writes fields in field-number order and repeated fields in array order, so
 * identical input gives byte-identical output.
 */
export function encodeModel(model: ModelJson): Uint8Array {
  const type = modelMessage();
  const bytes = type.encode(type.fromObject(model)).finish();
  // protobufjs hands back a Buffer (a view into a pool) under Node; return a plain, exactly-sized Uint8Array.
  return new Uint8Array(bytes);
}

/**
 * Parses `.onnx` bytes into the JSON form (fields left at their defaults are absent). Bytes fields are plain
 * `Uint8Array` views into `bytes`, also when `bytes` is a Node Buffer (as `readFileSync` returns).
 */
export function decodeModel(bytes: Uint8Array): ModelJson {
  const type = modelMessage();
  const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return type.toObject(type.decode(plain), { enums: String, longs: Number });
}
