import { toInt64 } from './onnx-session.js';

describe(toInt64.name, () => {
  it('should widen every int32 to the same int64, negatives and both extremes included', () => {
    const values = Int32Array.from([0, 1, -1, 101, 30521, 2147483647, -2147483648, -7]);
    expect(Array.from(toInt64(values))).toEqual(Array.from(values, (value) => BigInt(value)));
  });

  it('should give an empty array for no values', () => {
    expect(toInt64(new Int32Array(0))).toEqual(new BigInt64Array(0));
  });
});
