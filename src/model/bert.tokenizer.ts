import { Tokenizer } from 'tokenizers';

/**
 * A batch of tokenized sentences, padded to the longest row of the batch, as flat row-major
 * `[batchSize, sequenceLength]` arrays. Strategies turn these into whatever their runtime wants.
 */
export interface TokenizedBatch {
  readonly batchSize: number;
  readonly sequenceLength: number;
  readonly inputIds: Int32Array;
  readonly attentionMask: Int32Array;
  readonly tokenTypeIds: Int32Array;
  /** Real (non-padding) tokens of each row, special tokens included. */
  readonly lengths: readonly number[];
  /** Whether each row was cut to `maxLength`. */
  readonly truncated: readonly boolean[];
}

/**
 * The model's own `tokenizer.json`, run by Hugging Face's `tokenizers` (the Rust implementation behind
 * `transformers`' fast tokenizers). Encoding runs on libuv's thread pool, off the event loop. Used by the
 * service and by the training and evaluation tools, so training and serving cannot disagree.
 */
export class BertTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    /** Maximum sequence length, special tokens included; longer inputs are truncated, keeping `[SEP]`. */
    readonly maxLength: number,
    readonly padId: number,
  ) {}

  static fromFile(tokenizerJsonPath: string, maxLength: number): BertTokenizer {
    if (!Number.isInteger(maxLength) || maxLength < 2) {
      throw new Error(`maxLength must be an integer >= 2, got ${maxLength}`);
    }
    const tokenizer = Tokenizer.fromFile(tokenizerJsonPath);
    const padId = tokenizer.tokenToId('[PAD]');
    if (padId === null) {
      throw new Error(`${tokenizerJsonPath}: the vocabulary has no [PAD] token`);
    }
    tokenizer.setTruncation(maxLength);
    tokenizer.disablePadding();
    return new BertTokenizer(tokenizer, maxLength, padId);
  }

  get vocabSize(): number {
    return this.tokenizer.getVocabSize(true);
  }

  tokenToId(token: string): number | null {
    return this.tokenizer.tokenToId(token);
  }

  /** Token ids of each sentence (with `[CLS]`/`[SEP]`, truncated, unpadded). */
  async encodeIds(sentences: readonly string[]): Promise<number[][]> {
    const encodings = await this.tokenizer.encodeBatch([...sentences]);
    return encodings.map((encoding) => encoding.getIds());
  }

  /** Token strings of one sentence, for diagnostics and tests. */
  async tokens(sentence: string): Promise<string[]> {
    const encoding = await this.tokenizer.encode(sentence);
    return encoding.getTokens();
  }

  /** Encodes and right-pads to the longest sentence of this batch (not to `maxLength`). */
  async encodeBatch(sentences: readonly string[]): Promise<TokenizedBatch> {
    const encodings = await this.tokenizer.encodeBatch([...sentences]);
    return this.pad(
      encodings.map((encoding) => {
        const ids = encoding.getIds();
        // Only a row that reached maxLength may have been cut (each native call copies: the cheap check first).
        return { ids, truncated: ids.length >= this.maxLength && encoding.getOverflowing().length > 0 };
      }),
    );
  }

  /** Single sentences (one segment): token type ids are all 0, as the tokenizer's template gives them. */
  private pad(rows: readonly { ids: number[]; truncated: boolean }[]): TokenizedBatch {
    const batchSize = rows.length;
    const lengths = rows.map((row) => row.ids.length);
    const sequenceLength = Math.max(0, ...lengths);
    const inputIds = new Int32Array(batchSize * sequenceLength).fill(this.padId);
    const attentionMask = new Int32Array(batchSize * sequenceLength);
    const tokenTypeIds = new Int32Array(batchSize * sequenceLength);
    rows.forEach((row, r) => {
      const offset = r * sequenceLength;
      inputIds.set(row.ids, offset);
      attentionMask.fill(1, offset, offset + row.ids.length);
    });
    const truncated = rows.map((row) => row.truncated);
    return { batchSize, sequenceLength, inputIds, attentionMask, tokenTypeIds, lengths, truncated };
  }
}
