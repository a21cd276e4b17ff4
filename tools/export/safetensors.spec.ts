import { encodeSafetensors, SafetensorsError, SafetensorsFile } from './safetensors.js';

/** A safetensors file from a raw header object and data buffer (header deliberately not padded). */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array()): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bytes = new Uint8Array(8 + json.length + data.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  bytes.set(data, 8 + json.length);
  return bytes;
}

describe('safetensors reader', () => {
  const tensors = {
    'b.weight': { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    'a.bias': { shape: [3], data: Float32Array.from([-1.5, 0, 1e-20]) },
  };

  it('should read back what it writes, with metadata, and track unread tensors', () => {
    const bytes = encodeSafetensors(tensors, { format: 'pt' });
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
    const file = SafetensorsFile.parse(bytes, 'x.safetensors');
    expect(file.metadata).toEqual({ format: 'pt' });
    expect([...file.tensors.keys()].sort()).toEqual(['a.bias', 'b.weight']);
    expect(Array.from(file.float32('b.weight', [2, 3]))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(file.unused()).toEqual(['a.bias']);
    expect(Array.from(file.float32('a.bias', [3]))).toEqual(Array.from(tensors['a.bias'].data));
    expect(file.unused()).toEqual([]);
  });

  it('should read float32 data that starts at an unaligned offset', () => {
    const data = new Uint8Array(8);
    new DataView(data.buffer).setFloat32(0, 0.25, true);
    new DataView(data.buffer).setFloat32(4, -8, true);
    // Grow a metadata string until the data buffer starts at an offset that is not a multiple of 4.
    let note = '';
    let bytes = rawFile({});
    do {
      note += 'x';
      bytes = rawFile({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, __metadata__: { note } }, data);
    } while ((bytes.length - data.length) % 4 === 0);
    expect(Array.from(SafetensorsFile.parse(bytes).float32('t', [2]))).toEqual([0.25, -8]);
  });

  it.each([
    ['a too-short file', new Uint8Array(4), /too short/],
    [
      'a header longer than the file',
      (() => {
        const bytes = new Uint8Array(16);
        new DataView(bytes.buffer).setBigUint64(0, 1000n, true);
        return bytes;
      })(),
      /header length 1000 exceeds the file/,
    ],
    [
      'a header that is not JSON',
      rawFile('not json').map((b, i) => (i === 8 ? 0x41 : b)),
      /not valid UTF-8 JSON|not a JSON object/,
    ],
    [
      'an unknown dtype',
      rawFile({ t: { dtype: 'F33', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /tensor "t": unknown dtype "F33"/,
    ],
    [
      'offsets past the end',
      rawFile({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4)),
      /tensor "t": data_offsets \[0, 8\] fall outside the 4-byte data buffer/,
    ],
    [
      'a size that does not match the shape',
      rawFile({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)),
      /tensor "t": 8 bytes of data for F32 \[3\] \(expected 12\)/,
    ],
    [
      'overlapping tensors',
      rawFile(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
        },
        new Uint8Array(8),
      ),
      /tensor "b": data_offsets \[4, 8\] overlap the previous tensor/,
    ],
    [
      'trailing bytes',
      rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8)),
      /cover 4 bytes of a 8-byte data buffer/,
    ],
  ])('should reject %s with a clear error naming the file', (_, bytes, message) => {
    expect(() => SafetensorsFile.parse(bytes, 'bad.safetensors')).toThrow(SafetensorsError);
    expect(() => SafetensorsFile.parse(bytes, 'bad.safetensors')).toThrow(message);
    expect(() => SafetensorsFile.parse(bytes, 'bad.safetensors')).toThrow(/^bad\.safetensors: /);
  });

  it('should name the tensor when it is missing, not float32, or shaped differently', () => {
    const file = SafetensorsFile.parse(
      rawFile(
        {
          h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
          f: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
        },
        new Uint8Array(8),
      ),
      'm.safetensors',
    );
    expect(() => file.float32('missing', [1])).toThrow('m.safetensors: missing tensor "missing" (expected F32 [1])');
    expect(() => file.float32('h', [2])).toThrow(/tensor "h" is F16; only F32 weights are supported/);
    expect(() => file.float32('f', [1, 1])).toThrow(/tensor "f" has shape \[1\], expected \[1, 1\]/);
  });

  it('should report an unreadable path', () => {
    expect(() => SafetensorsFile.open('/nonexistent/model.safetensors')).toThrow(
      /^\/nonexistent\/model\.safetensors: cannot read/,
    );
  });
});
