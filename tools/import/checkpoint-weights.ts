/**
 * The weights of a Hugging Face checkpoint folder, under PyTorch parameter names and in PyTorch layout, whatever file
 * they came in:
 *
 * - `model.safetensors` with PyTorch names (`{"format": "pt"}`), as `PreTrainedModel.save_pretrained` writes it;
 *   F16, BF16 and F64 tensors are widened or narrowed to F32;
 * - `model.safetensors` with TensorFlow names (`{"format": "tf"}`, `bert/encoder/layer_._0/.../kernel:0`);
 * - `tf_model.h5`, the Keras HDF5 weights of `TFBertForSequenceClassification` / `TFDistilBertForSequenceClassification`.
 *
 * TF names are mapped and Dense kernels transposed per tools/import/tf-names.ts. The result is a `WeightSource`, so
 * the exporters' architectures check every name and shape against config.json before anything is written, with
 * errors naming the source file and the tensor.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile, type WeightSource } from '../export/safetensors.js';
import { readKerasH5Weights } from './keras-h5.js';
import { type Float32Tensor, pyTorchName, toPyTorchLayout } from './tf-names.js';

export const SAFETENSORS_FILE = 'model.safetensors';
export const TF_H5_FILE = 'tf_model.h5';

export interface CheckpointTensor extends Float32Tensor {
  /** Where the values came from when it is not the tensor of the same name (a TF variable), for messages. */
  readonly from?: string;
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** In-memory float32 weights under PyTorch names, tracking which ones the architecture read. */
export class CheckpointWeights implements WeightSource {
  private readonly read = new Set<string>();

  constructor(
    /** The file the weights came from. */
    readonly origin: string,
    /** Which format it was, for the summary (`safetensors (pt)`, `safetensors (tf)`, `Keras HDF5`). */
    readonly format: string,
    private readonly tensors: ReadonlyMap<string, CheckpointTensor>,
    /** Entries left out because they are not float weights (integer buffers such as `position_ids`). */
    readonly skipped: readonly string[] = [],
    /** How many kernels were transposed from the Keras layout. */
    readonly transposed = 0,
  ) {}

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  float32(name: string, shape: readonly number[]): Float32Array {
    const tensor = this.tensors.get(name);
    if (tensor === undefined) {
      throw new Error(`${this.origin}: missing tensor "${name}" (expected ${formatShape(shape)})`);
    }
    if (tensor.shape.length !== shape.length || tensor.shape.some((dim, i) => dim !== shape[i])) {
      const from = tensor.from === undefined ? '' : ` (from ${tensor.from})`;
      throw new Error(
        `${this.origin}: tensor "${name}"${from} has shape ${formatShape(tensor.shape)}, expected ${formatShape(shape)} (does config.json match the weights?)`,
      );
    }
    this.read.add(name);
    return tensor.data;
  }

  unused(): string[] {
    return [...this.tensors.keys()].filter((name) => !this.read.has(name)).sort();
  }

  /** The tensors the architecture read: what model.safetensors is written from. */
  used(): Record<string, Float32Tensor> {
    return Object.fromEntries([...this.read].sort().map((name) => [name, this.tensors.get(name) as Float32Tensor]));
  }
}

/** Bits of a float32, to widen bfloat16 (its upper 16 bits). */
const bfloat16Bits = new Uint32Array(1);
const bfloat16Value = new Float32Array(bfloat16Bits.buffer);

/** The i-th element of a little-endian float tensor of this safetensors dtype; undefined for non-float dtypes. */
function floatReader(view: DataView, dtype: string): ((index: number) => number) | undefined {
  switch (dtype) {
    case 'F32':
      return (i) => view.getFloat32(4 * i, true);
    case 'F64':
      return (i) => view.getFloat64(8 * i, true);
    case 'BF16':
      return (i) => {
        bfloat16Bits[0] = view.getUint16(2 * i, true) << 16;
        return bfloat16Value[0] as number;
      };
    case 'F16':
      return (i) => halfToFloat(view.getUint16(2 * i, true));
    default:
      return undefined;
  }
}

/** IEEE 754 binary16 → number. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) {
    return sign * 2 ** -14 * (fraction / 1024);
  }
  if (exponent === 0x1f) {
    return fraction === 0 ? sign * Infinity : NaN;
  }
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * Reads `model.safetensors`: float tensors as float32, TF names mapped when the file holds a TF model. Non-float
 * entries are only accepted when `ignorable` (the architecture's buffers): they are dropped.
 */
export function readSafetensorsCheckpoint(path: string, ignorable: readonly RegExp[]): CheckpointWeights {
  const bytes = readFileSync(path);
  const file = SafetensorsFile.parse(bytes, path);
  const dataStart = 8 + Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const names = [...file.tensors.keys()];
  const tfNames = file.metadata.format === 'tf' || names.some((name) => /:\d+$/.test(name));
  const tensors = new Map<string, CheckpointTensor>();
  const skipped: string[] = [];
  let transposed = 0;
  for (const info of file.tensors.values()) {
    const name = tfNames ? pyTorchName(info.name, false) : info.name;
    const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart + info.begin, info.end - info.begin);
    const read = floatReader(view, info.dtype);
    if (read === undefined) {
      if (ignorable.some((pattern) => pattern.test(name))) {
        skipped.push(info.name);
        continue;
      }
      throw new Error(`${path}: tensor "${info.name}" is ${info.dtype}; weights must be float (F32, F16, BF16 or F64)`);
    }
    const data = new Float32Array(info.shape.reduce((product, dim) => product * dim, 1));
    for (let i = 0; i < data.length; i++) {
      data[i] = read(i);
    }
    let tensor: CheckpointTensor = { shape: info.shape, data };
    if (tfNames) {
      const converted = toPyTorchLayout(info.name, tensor, `${path}: tensor "${info.name}"`);
      transposed += converted.transposed ? 1 : 0;
      tensor = { shape: converted.shape, data: converted.data, from: `"${info.name}"` };
    }
    addTensor(tensors, name, tensor, path);
  }
  return new CheckpointWeights(path, tfNames ? 'safetensors (TF names)' : 'safetensors', tensors, skipped, transposed);
}

function addTensor(tensors: Map<string, CheckpointTensor>, name: string, tensor: CheckpointTensor, path: string): void {
  const existing = tensors.get(name);
  if (existing !== undefined) {
    throw new Error(`${path}: ${tensor.from ?? `"${name}"`} and ${existing.from ?? `"${name}"`} both map to "${name}"`);
  }
  tensors.set(name, tensor);
}

/** Reads `tf_model.h5`: TF names mapped to PyTorch ones, Dense kernels transposed. */
export async function readKerasCheckpoint(path: string): Promise<CheckpointWeights> {
  const tensors = new Map<string, CheckpointTensor>();
  let transposed = 0;
  for (const weight of await readKerasH5Weights(path)) {
    const converted = toPyTorchLayout(weight.name, weight, `${path}: dataset ${weight.dataset}`);
    transposed += converted.transposed ? 1 : 0;
    const from = `dataset ${weight.dataset}${converted.transposed ? ', transposed' : ''}`;
    addTensor(tensors, pyTorchName(weight.name), { shape: converted.shape, data: converted.data, from }, path);
  }
  return new CheckpointWeights(path, 'Keras HDF5', tensors, [], transposed);
}

/** Other weight files save_pretrained may leave, and why they are not read. */
const UNSUPPORTED_WEIGHT_FILES: readonly [string, string][] = [
  ['model.safetensors.index.json', 'sharded safetensors checkpoints are not supported'],
  ['tf_model.h5.index.json', 'sharded TF checkpoints are not supported'],
  [
    'pytorch_model.bin',
    'PyTorch pickle files are not read (re-save with save_pretrained(dir, safe_serialization=True) for model.safetensors)',
  ],
  ['flax_model.msgpack', 'Flax checkpoints are not supported'],
];

/** The weights of a checkpoint folder: `model.safetensors` if present, else `tf_model.h5`. */
export async function readCheckpointWeights(dir: string, ignorable: readonly RegExp[]): Promise<CheckpointWeights> {
  const safetensors = join(dir, SAFETENSORS_FILE);
  if (existsSync(safetensors)) {
    return readSafetensorsCheckpoint(safetensors, ignorable);
  }
  const h5 = join(dir, TF_H5_FILE);
  if (existsSync(h5)) {
    return readKerasCheckpoint(h5);
  }
  const found = UNSUPPORTED_WEIGHT_FILES.filter(([file]) => existsSync(join(dir, file)));
  throw new Error(
    `${dir}: no ${SAFETENSORS_FILE} or ${TF_H5_FILE}${found.map(([file, why]) => `; found ${file}: ${why}`).join('')}`,
  );
}
