import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSafetensors } from '../export/safetensors.js';
import { halfToFloat, readCheckpointWeights, readSafetensorsCheckpoint } from './checkpoint-weights.js';

interface RawTensor {
  readonly dtype: string;
  readonly shape: number[];
  readonly bytes: Uint8Array;
}

/** A safetensors file with tensors of any dtype (encodeSafetensors writes only F32). */
function rawSafetensors(
  tensors: Record<string, RawTensor>,
  metadata: Record<string, string> = { format: 'pt' },
): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.bytes.length] };
    offset += tensor.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, ...Object.values(tensors).map((tensor) => tensor.bytes)]);
}

function bytesOf(values: number[], size: number, write: (view: DataView, offset: number, value: number) => void) {
  const view = new DataView(new ArrayBuffer(values.length * size));
  values.forEach((value, i) => write(view, i * size, value));
  return new Uint8Array(view.buffer);
}

describe('checkpoint weights', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'checkpoint-weights-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should decode IEEE half floats', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x3555)).toBeCloseTo(0.33325, 5);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it('should read F32 tensors as they are, and widen F16, BF16 and F64 ones to float32', () => {
    const path = join(dir, 'dtypes.safetensors');
    writeFileSync(
      path,
      rawSafetensors({
        a: { dtype: 'F32', shape: [2], bytes: bytesOf([1.5, -2], 4, (v, o, x) => v.setFloat32(o, x, true)) },
        b: { dtype: 'F16', shape: [2], bytes: bytesOf([0x3c00, 0xc000], 2, (v, o, x) => v.setUint16(o, x, true)) },
        // bfloat16 = the upper half of a float32: 0x3fc0 = 1.5, 0xc040 = -3
        c: { dtype: 'BF16', shape: [2], bytes: bytesOf([0x3fc0, 0xc040], 2, (v, o, x) => v.setUint16(o, x, true)) },
        d: { dtype: 'F64', shape: [1, 2], bytes: bytesOf([0.25, 1e-3], 8, (v, o, x) => v.setFloat64(o, x, true)) },
      }),
    );
    const weights = readSafetensorsCheckpoint(path, []);
    expect([...weights.float32('a', [2])]).toEqual([1.5, -2]);
    expect([...weights.float32('b', [2])]).toEqual([1, -2]);
    expect([...weights.float32('c', [2])]).toEqual([1.5, -3]);
    expect([...weights.float32('d', [1, 2])]).toEqual([0.25, Math.fround(1e-3)]);
    expect(weights.format).toBe('safetensors');
  });

  it('should drop integer buffers the architecture ignores, and refuse other integer tensors', () => {
    const path = join(dir, 'buffers.safetensors');
    const ids = bytesOf([0, 1], 8, (v, o, x) => v.setBigInt64(o, BigInt(x), true));
    writeFileSync(
      path,
      rawSafetensors({
        'bert.embeddings.position_ids': { dtype: 'I64', shape: [1, 2], bytes: ids },
        'classifier.bias': { dtype: 'F32', shape: [1], bytes: bytesOf([3], 4, (v, o, x) => v.setFloat32(o, x, true)) },
      }),
    );
    const weights = readSafetensorsCheckpoint(path, [/^bert\.embeddings\.position_ids$/]);
    expect(weights.skipped).toEqual(['bert.embeddings.position_ids']);
    expect(weights.has('bert.embeddings.position_ids')).toBe(false);
    expect(() => readSafetensorsCheckpoint(path, [])).toThrow(
      `${path}: tensor "bert.embeddings.position_ids" is I64; weights must be float (F32, F16, BF16 or F64)`,
    );
  });

  it('should map a TF-format safetensors file (format "tf", Keras names without the model name)', () => {
    const path = join(dir, 'tf.safetensors');
    const kernel = Float32Array.from([1, 2, 3, 4, 5, 6]);
    writeFileSync(
      path,
      encodeSafetensors(
        {
          'classifier/kernel:0': { shape: [3, 2], data: kernel },
          'bert/embeddings/LayerNorm/gamma:0': { shape: [2], data: Float32Array.from([7, 8]) },
        },
        { format: 'tf' },
      ),
    );
    const weights = readSafetensorsCheckpoint(path, []);
    expect([...weights.float32('classifier.weight', [2, 3])]).toEqual([1, 3, 5, 2, 4, 6]);
    expect([...weights.float32('bert.embeddings.LayerNorm.weight', [2])]).toEqual([7, 8]);
    expect(weights.transposed).toBe(1);
    expect(() => weights.float32('classifier.weight', [3, 2])).toThrow(
      `${path}: tensor "classifier.weight" (from "classifier/kernel:0") has shape [2, 3], expected [3, 2]`,
    );
  });

  it('should keep only the tensors read for model.safetensors, sorted by name', () => {
    const path = join(dir, 'used.safetensors');
    writeFileSync(
      path,
      encodeSafetensors({
        z: { shape: [1], data: Float32Array.from([1]) },
        a: { shape: [1], data: Float32Array.from([2]) },
        extra: { shape: [1], data: Float32Array.from([3]) },
      }),
    );
    const weights = readSafetensorsCheckpoint(path, []);
    weights.float32('z', [1]);
    weights.float32('a', [1]);
    expect(Object.keys(weights.used())).toEqual(['a', 'z']);
    expect(weights.unused()).toEqual(['extra']);
  });

  it('should say which weight file is missing, and why a pytorch_model.bin is not read', async () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    await expect(readCheckpointWeights(empty, [])).rejects.toThrow(`${empty}: no model.safetensors or tf_model.h5`);
    writeFileSync(join(empty, 'pytorch_model.bin'), 'pickle');
    await expect(readCheckpointWeights(empty, [])).rejects.toThrow(
      'found pytorch_model.bin: PyTorch pickle files are not read (re-save with save_pretrained(dir, safe_serialization=True)',
    );
  });
});
