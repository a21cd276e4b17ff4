import { softmax, toPredictions } from './classification.postprocessor.js';

describe('classification postprocessor', () => {
  it('should compute a softmax that sums to one and is stable for large logits', () => {
    const p = softmax([1000, 1001]);
    expect(p[0]! + p[1]!).toBeCloseTo(1, 12);
    expect(p[1]).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
  });

  it('should pick the most probable label per row, in row order', () => {
    const logits = { data: new Float32Array([2, -1, -0.5, 0.5, 0, 0]), rows: 3, columns: 2 };
    const predictions = toPredictions(logits, ['NEGATIVE', 'POSITIVE']);
    expect(predictions.map((p) => p.label)).toEqual(['NEGATIVE', 'POSITIVE', 'NEGATIVE']);
    expect(predictions[0]!.confidence).toBeCloseTo(1 / (1 + Math.exp(-3)), 6);
    expect(predictions[2]!.confidence).toBe(0.5);
  });

  it('should refuse logits whose width does not match the labels', () => {
    const logits = { data: new Float32Array([1, 2, 3]), rows: 1, columns: 3 };
    expect(() => toPredictions(logits, ['NEGATIVE', 'POSITIVE'])).toThrow(
      /3 scores per sentence but config.json names 2 labels/,
    );
  });
});
