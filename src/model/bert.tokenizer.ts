import { readFileSync } from 'node:fs';
import { Tokenizer } from 'tokenizers';
import { FAST_PATH_TEXT, type FastPathCheck, FastPathTokenizer } from './fast-path.tokenizer.js';
import { ModelBundleError } from './model-bundle.js';
import { type TokenizedBatch, padRows } from './tokenized-batch.js';

/**
 * Most text of one request the fast path takes (about 8 sentences of the longest accepted length, 2 to 5 ms of the
 * main thread). A request with more goes to the reference as a whole, whose work runs in libuv's thread pool: a flood
 * of large batches then leaves the main thread free to refuse the excess with 429 and to answer probes (measured by
 * `npm run bench:overload`: a 64 × 2,000-character batch costs the main thread 12 ms on the fast path, 2 ms so).
 */
const FAST_PATH_MAX_CHARACTERS = 16_000;

const totalLength = (sentences: readonly string[]) => sentences.reduce((sum, sentence) => sum + sentence.length, 0);

interface Row {
  readonly ids: number[];
  readonly truncated: boolean;
}

/**
 * The model's own `tokenizer.json`, run by Hugging Face's `tokenizers` (the Rust implementation behind
 * `transformers`' fast tokenizers). Used by the service and by the training and evaluation tools, so training and
 * serving cannot disagree. The service also turns on a fast path (`enableFastPath`): tokenizers.js for the text
 * where it was found equal to this reference at load, which costs about a quarter of a call into the binding.
 */
export class BertTokenizer {
  private fast: FastPathTokenizer | null = null;

  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly path: string,
    /** Maximum sequence length, special tokens included; longer inputs are truncated, keeping `[SEP]`. */
    readonly maxLength: number,
    readonly padId: number,
  ) {}

  static fromFile(tokenizerJsonPath: string, maxLength: number): BertTokenizer {
    if (!Number.isInteger(maxLength) || maxLength < 2) {
      throw new Error(`maxLength must be an integer >= 2, got ${maxLength}`);
    }
    let tokenizer: Tokenizer;
    try {
      tokenizer = Tokenizer.fromFile(tokenizerJsonPath);
    } catch (error) {
      throw new ModelBundleError(`${tokenizerJsonPath}: not a tokenizer: ${(error as Error).message}`);
    }
    const padId = tokenizer.tokenToId('[PAD]');
    if (padId === null) {
      throw new ModelBundleError(`${tokenizerJsonPath}: the vocabulary has no [PAD] token`);
    }
    tokenizer.setTruncation(maxLength);
    tokenizer.disablePadding();
    return new BertTokenizer(tokenizer, tokenizerJsonPath, maxLength, padId);
  }

  /**
   * Lets sentences made only of FAST_PATH_TEXT's characters take tokenizers.js, if it gives the reference's ids on
   * every such character (in and around words, cased and not) and on sentences cut at maxLength. Otherwise nothing
   * changes and the result says why.
   */
  async enableFastPath(): Promise<FastPathCheck> {
    const fast = FastPathTokenizer.create(JSON.parse(readFileSync(this.path, 'utf8')), this.maxLength);
    if (fast === null) {
      return {
        enabled: false,
        probes: 0,
        reason: 'tokenizers.js cannot read this tokenizer.json as [prefix] text [suffix]',
      };
    }
    // Sentences cut at maxLength, also long enough for encode's prefix (6 characters per token) to hold the room or not.
    const n = this.maxLength;
    const long = [
      'word '.repeat(n),
      'Ab, '.repeat(n),
      `${'x'.repeat(150)} y`,
      'a '.repeat(4 * n),
      'Über naïve… '.repeat(n),
      `${'longwords'.repeat(9)} `.repeat(n),
      `${'x'.repeat(150)} `.repeat(n),
    ];
    const check = await fast.verify(this.tokenizer, long);
    this.fast = check.enabled ? fast : null;
    return check;
  }

  /** Whether enableFastPath turned the fast path on. */
  get fastPath(): boolean {
    return this.fast !== null;
  }

  get vocabSize(): number {
    return this.tokenizer.getVocabSize(true);
  }

  tokenToId(token: string): number | null {
    return this.tokenizer.tokenToId(token);
  }

  /** Token ids of each sentence (with `[CLS]`/`[SEP]`, truncated, unpadded). */
  async encodeIds(sentences: readonly string[]): Promise<number[][]> {
    return (await this.encodeRows(sentences)).map((row) => row.ids);
  }

  /** Token strings of one sentence, for diagnostics and tests. */
  async tokens(sentence: string): Promise<string[]> {
    const encoding = await this.tokenizer.encode(sentence);
    return encoding.getTokens();
  }

  /** Encodes and right-pads to the longest sentence of this batch (not to `maxLength`). */
  async encodeBatch(sentences: readonly string[]): Promise<TokenizedBatch> {
    const rows = await this.encodeRows(sentences);
    // Single sentences (one segment): token type ids are all 0, as the tokenizer's template gives them.
    return padRows(
      rows,
      this.padId,
      rows.map((row) => row.truncated),
    );
  }

  /**
   * Each sentence through the fast path if it may take it, the rest in one call to the reference; in order. The fast
   * path runs on the caller's thread, so it only takes requests of up to FAST_PATH_MAX_CHARACTERS.
   */
  private async encodeRows(sentences: readonly string[]): Promise<Row[]> {
    const rows: Row[] = new Array<Row>(sentences.length);
    const fast = this.fast !== null && totalLength(sentences) <= FAST_PATH_MAX_CHARACTERS ? this.fast : null;
    const slow: number[] = [];
    sentences.forEach((sentence, i) => {
      if (fast !== null && FAST_PATH_TEXT.test(sentence)) {
        rows[i] = fast.encode(sentence);
      } else {
        slow.push(i);
      }
    });
    if (slow.length > 0) {
      const encodings = await this.tokenizer.encodeBatch(slow.map((i) => sentences[i]!));
      encodings.forEach((encoding, k) => {
        const ids = encoding.getIds();
        // Only a row that reached maxLength may have been cut (each native call copies: the cheap check first).
        rows[slow[k]!] = { ids, truncated: ids.length >= this.maxLength && encoding.getOverflowing().length > 0 };
      });
    }
    return rows;
  }
}
