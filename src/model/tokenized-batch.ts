/**
 * A batch of tokenized sentences, padded to the longest row of the batch, as flat row-major
 * `[batchSize, sequenceLength]` arrays. Strategies turn these into whatever their runtime wants.
 */
export interface TokenizedBatch {
  readonly batchSize: number;
  readonly sequenceLength: number;
  /** The id padding positions hold (the tokenizer's [PAD]); the attention mask is 0 there. */
  readonly padId: number;
  readonly inputIds: Int32Array;
  readonly attentionMask: Int32Array;
  readonly tokenTypeIds: Int32Array;
  /** Real (non-padding) tokens of each row, special tokens included. */
  readonly lengths: readonly number[];
  /** Whether each row was cut to `maxLength`. */
  readonly truncated: readonly boolean[];
}

/** What a runtime reads of a batch: its shape and the three id tensors (not the per-row bookkeeping). */
export type ModelTensors = Omit<TokenizedBatch, 'lengths' | 'truncated'>;

/** One row before padding: its token ids and, for sentence pairs, its type ids (all 0 when absent). */
export interface UnpaddedRow {
  readonly ids: ArrayLike<number>;
  readonly typeIds?: ArrayLike<number>;
}

/**
 * Rows right-padded with `padId` to the longest of them (not to the model's maximum), with their attention mask. The
 * tokenizer and the batcher (which re-packs rows of several requests) both build their batches here.
 */
export function padRows(rows: readonly UnpaddedRow[], padId: number, truncated: readonly boolean[]): TokenizedBatch {
  const batchSize = rows.length;
  const lengths = rows.map((row) => row.ids.length);
  const sequenceLength = Math.max(0, ...lengths);
  const inputIds = new Int32Array(batchSize * sequenceLength).fill(padId);
  const attentionMask = new Int32Array(batchSize * sequenceLength);
  const tokenTypeIds = new Int32Array(batchSize * sequenceLength);
  rows.forEach((row, r) => {
    const offset = r * sequenceLength;
    inputIds.set(row.ids, offset);
    if (row.typeIds) {
      tokenTypeIds.set(row.typeIds, offset);
    }
    attentionMask.fill(1, offset, offset + row.ids.length);
  });
  return { batchSize, sequenceLength, padId, inputIds, attentionMask, tokenTypeIds, lengths, truncated };
}
