/**
 * A strict reader (and a small writer, for tests and tools) for the safetensors format:
 *
 *   u64 little-endian N | N bytes of UTF-8 JSON header (may be right-padded with spaces) | byte buffer
 *
 * The header maps each tensor name to `{dtype, shape, data_offsets: [begin, end)}` (offsets relative to the byte
 * buffer) plus an optional `__metadata__` string map. Tensors are row-major, little-endian, and together cover the
 * buffer without gaps or overlaps. No npm package for this is well maintained (npm `safetensors` is a 0.0.1
 * placeholder), and the format is small, so it is implemented here. Every error names the file, and the tensor
 * where there is one.
 */
import { readFileSync } from 'node:fs';

/** Element size in bytes of each safetensors dtype this reader knows (only F32 can be read as values). */
const DTYPE_SIZES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** The reference implementation refuses headers above this size (100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
}

export interface TensorInfo {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Byte range inside the data buffer, end exclusive. */
  readonly begin: number;
  readonly end: number;
}

/** A source of float32 weights by name, with the shape each one must have. */
export interface WeightSource {
  /** Where the weights come from (for error messages). */
  readonly origin: string;
  has(name: string): boolean;
  /** The tensor's values, row-major; throws if it is missing or its shape differs from `shape`. */
  float32(name: string, shape: readonly number[]): Float32Array;
  /** Names of the tensors never read through `float32`, sorted. */
  unused(): string[];
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export class SafetensorsFile implements WeightSource {
  private readonly read = new Set<string>();

  private constructor(
    readonly origin: string,
    private readonly bytes: Uint8Array,
    private readonly dataStart: number,
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  static open(path: string): SafetensorsFile {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      throw new SafetensorsError(`${path}: cannot read: ${(error as Error).message}`);
    }
    return SafetensorsFile.parse(bytes, path);
  }

  /** Parses and validates the header; tensor data is only read on demand. */
  static parse(bytes: Uint8Array, origin = '<buffer>'): SafetensorsFile {
    const fail = (message: string): never => {
      throw new SafetensorsError(`${origin}: ${message}`);
    };
    if (bytes.byteLength < 8) {
      fail(`too short for a safetensors file (${bytes.byteLength} bytes)`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headerLength = view.getBigUint64(0, true);
    if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, bytes.byteLength - 8))) {
      fail(`header length ${headerLength} exceeds the file (${bytes.byteLength} bytes) or the 100 MB limit`);
    }
    const dataStart = 8 + Number(headerLength);
    let header: unknown;
    try {
      const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
      if (!text.startsWith('{')) {
        fail('header is not a JSON object');
      }
      header = JSON.parse(text);
    } catch (error) {
      if (error instanceof SafetensorsError) {
        throw error;
      }
      fail(`header is not valid UTF-8 JSON: ${(error as Error).message}`);
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) {
      fail('header is not a JSON object');
    }
    const dataLength = bytes.byteLength - dataStart;
    const tensors = new Map<string, TensorInfo>();
    let metadata: Record<string, string> = {};
    for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') {
        if (
          typeof entry !== 'object' ||
          entry === null ||
          Object.values(entry).some((value) => typeof value !== 'string')
        ) {
          fail('__metadata__ must map strings to strings');
        }
        metadata = entry as Record<string, string>;
        continue;
      }
      tensors.set(name, SafetensorsFile.checkEntry(name, entry, dataLength, fail));
    }
    // The data buffer must be covered exactly, in offset order: no gaps, no overlaps, nothing after the end.
    const ordered = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
    let expected = 0;
    for (const tensor of ordered) {
      if (tensor.begin !== expected) {
        fail(
          `tensor "${tensor.name}": data_offsets [${tensor.begin}, ${tensor.end}] ${tensor.begin < expected ? 'overlap' : 'leave a gap after'} the previous tensor (expected begin ${expected})`,
        );
      }
      expected = tensor.end;
    }
    if (expected !== dataLength) {
      fail(`the tensors cover ${expected} bytes of a ${dataLength}-byte data buffer`);
    }
    return new SafetensorsFile(origin, bytes, dataStart, tensors, metadata);
  }

  private static checkEntry(
    name: string,
    entry: unknown,
    dataLength: number,
    fail: (message: string) => never,
  ): TensorInfo {
    const where = `tensor "${name}"`;
    if (typeof entry !== 'object' || entry === null) {
      fail(`${where}: entry is not an object`);
    }
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== 'string' || DTYPE_SIZES[dtype] === undefined) {
      fail(`${where}: unknown dtype ${JSON.stringify(dtype)}`);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
      fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
      fail(`${where}: data_offsets must be [begin, end], got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength) {
      fail(
        `${where}: data_offsets [${begin}, ${end}] fall outside the ${dataLength}-byte data buffer (truncated file?)`,
      );
    }
    const dims = shape;
    const expectedBytes = dims.reduce((product, dim) => product * dim, 1) * DTYPE_SIZES[dtype];
    if (end - begin !== expectedBytes) {
      fail(`${where}: ${end - begin} bytes of data for ${dtype} ${formatShape(dims)} (expected ${expectedBytes})`);
    }
    return { name, dtype: dtype, shape: dims, begin, end };
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  float32(name: string, shape: readonly number[]): Float32Array {
    const tensor = this.tensors.get(name);
    if (tensor === undefined) {
      throw new SafetensorsError(`${this.origin}: missing tensor "${name}" (expected F32 ${formatShape(shape)})`);
    }
    if (tensor.dtype !== 'F32') {
      throw new SafetensorsError(
        `${this.origin}: tensor "${name}" is ${tensor.dtype}; only F32 weights are supported (convert the checkpoint to float32)`,
      );
    }
    if (tensor.shape.length !== shape.length || tensor.shape.some((dim, i) => dim !== shape[i])) {
      throw new SafetensorsError(
        `${this.origin}: tensor "${name}" has shape ${formatShape(tensor.shape)}, expected ${formatShape(shape)} (does config.json match the weights?)`,
      );
    }
    this.read.add(name);
    // Copy element by element: the data need not be 4-byte aligned in the file, and the file is little-endian.
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.dataStart + tensor.begin);
    const values = new Float32Array((tensor.end - tensor.begin) / 4);
    for (let i = 0; i < values.length; i++) {
      values[i] = view.getFloat32(4 * i, true);
    }
    return values;
  }

  unused(): string[] {
    return [...this.tensors.keys()].filter((name) => !this.read.has(name)).sort();
  }
}

/** Serializes float32 tensors to safetensors bytes (sorted by name, header padded to 8 bytes). */
export function encodeSafetensors(
  tensors: Readonly<Record<string, { readonly shape: readonly number[]; readonly data: Float32Array }>>,
  metadata: Readonly<Record<string, string>> = { format: 'pt' },
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const { shape, data } = tensors[name] as { shape: readonly number[]; data: Float32Array };
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + 4 * data.length] };
    offset += 4 * data.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const name of names) {
    for (const value of (tensors[name] as { data: Float32Array }).data) {
      view.setFloat32(position, value, true);
      position += 4;
    }
  }
  return out;
}
