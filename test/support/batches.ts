/** Shared by specs that feed hand-made batches to a model and compare logits. */
import { type TokenizedBatch, padRows } from '../../src/model/tokenized-batch.js';

/** Rows of token ids → a right-padded batch, as the tokenizer makes it (token types all 0). */
export function batchOf(rows: readonly (readonly number[])[], padId = 0): TokenizedBatch {
  return padRows(
    rows.map((ids) => ({ ids })),
    padId,
    rows.map(() => false),
  );
}

/** Largest |a[i] − b[i]|; the two must have the same length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new Error(`length ${a.length} != ${b.length}`);
  }
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  }
  return max;
}

/** Index of the largest value in each row of a row-major [rows, columns] array. */
export function argmaxRows(logits: ArrayLike<number>, columns: number): number[] {
  const labels: number[] = [];
  for (let start = 0; start < logits.length; start += columns) {
    let best = 0;
    for (let c = 1; c < columns; c++) {
      if ((logits[start + c] as number) > (logits[start + best] as number)) {
        best = c;
      }
    }
    labels.push(best);
  }
  return labels;
}
