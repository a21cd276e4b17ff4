import type { Logits } from './logits.js';

export interface Prediction {
  readonly label: string;
  /** Probability of `label`: softmax over the row's logits. */
  readonly confidence: number;
}

/** Numerically stable softmax of one row. */
export function softmax(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) {
    max = Math.max(max, row[i] as number);
  }
  const out = new Float64Array(row.length);
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    out[i] = Math.exp((row[i] as number) - max);
    sum += out[i] as number;
  }
  for (let i = 0; i < row.length; i++) {
    out[i] = (out[i] as number) / sum;
  }
  return out;
}

/** logits → the most probable label of each row and its softmax probability (ties go to the lower index). */
export function toPredictions(logits: Logits, labels: readonly string[]): Prediction[] {
  if (logits.columns !== labels.length) {
    throw new Error(
      `the model returned ${logits.columns} scores per sentence but config.json names ${labels.length} labels`,
    );
  }
  const predictions: Prediction[] = [];
  for (let r = 0; r < logits.rows; r++) {
    const probabilities = softmax(logits.data.subarray(r * logits.columns, (r + 1) * logits.columns));
    let best = 0;
    for (let c = 1; c < probabilities.length; c++) {
      if ((probabilities[c] as number) > (probabilities[best] as number)) {
        best = c;
      }
    }
    predictions.push({ label: labels[best] as string, confidence: probabilities[best] as number });
  }
  return predictions;
}
