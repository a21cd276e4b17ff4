import * as tokenizersJs from '@huggingface/tokenizers';
import type { Tokenizer as ReferenceTokenizer } from 'tokenizers';

/**
 * The part of tokenizers.js used here. Its published declarations use extensionless relative imports, which
 * NodeNext resolution cannot follow (they would type as any), so the shape is declared here.
 */
interface JsTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
}
const { Tokenizer: JsTokenizerClass } = tokenizersJs as unknown as {
  Tokenizer: new (tokenizerJson: object, tokenizerConfig: object) => JsTokenizer;
};

/**
 * Text the fast path may take: Latin script with its combining marks, general punctuation (curly quotes, dashes,
 * ellipsis) and the euro sign. Outside it (other scripts, characters added in recent Unicode versions, where the two
 * implementations' Unicode tables differ, lone surrogates) the Rust reference tokenizes.
 */
// eslint-disable-next-line no-control-regex -- control characters are part of the checked range (clean_text drops them)
export const FAST_PATH_TEXT = /^[\u0000-\u036f\u2000-\u206f\u20ac]*$/;

const FAST_PATH_RANGES: readonly (readonly [number, number])[] = [
  [0x0000, 0x036f],
  [0x2000, 0x206f],
  [0x20ac, 0x20ac],
];

/**
 * Characters per token of the prefix `encode` tries first on a long sentence: English text has 4 to 5 with its
 * spaces, so the prefix usually holds more tokens than the model takes; when it does not, the whole sentence is
 * tokenized (a sentence of long words costs a sixth more than without the try).
 */
const CHARACTERS_PER_TOKEN = 6;

/** Every character of FAST_PATH_TEXT inside a word, at a word's start and end, and alone; checked at load. */
export function fastPathProbes(): string[] {
  const probes: string[] = [];
  for (const [first, last] of FAST_PATH_RANGES) {
    for (let code = first; code <= last; code++) {
      const c = String.fromCodePoint(code);
      probes.push(`a${c}b ${c}e${c} ${c}`);
    }
  }
  return probes;
}

export interface FastEncoding {
  readonly ids: number[];
  readonly truncated: boolean;
}

export type FastPathCheck =
  | { readonly enabled: true; readonly probes: number }
  | { readonly enabled: false; readonly probes: number; readonly reason: string };

/**
 * The same tokenizer.json run by Hugging Face's pure-JavaScript tokenizers.js, synchronously on the calling thread:
 * one sentence costs about a quarter of a call into the Rust binding, which pays for a trip through libuv's thread
 * pool and for building a full encoding object. It is only used after `verify` found it equal, id for id, to the
 * Rust reference on every character it may see; otherwise every sentence goes to the reference.
 */
export class FastPathTokenizer {
  private constructor(
    private readonly tokenizer: JsTokenizer,
    private readonly maxLength: number,
    /** Special tokens the single-sentence template puts before and after the sentence ([CLS] … [SEP] for BERT). */
    private readonly prefix: readonly number[],
    private readonly suffix: readonly number[],
  ) {}

  /** Null when tokenizers.js cannot read this tokenizer.json or its single-sentence template is not prefix+suffix. */
  static create(tokenizerJson: unknown, maxLength: number): FastPathTokenizer | null {
    let tokenizer: JsTokenizer;
    try {
      tokenizer = new JsTokenizerClass(tokenizerJson as object, {});
    } catch {
      return null;
    }
    const probe = 'a';
    const bare = tokenizer.encode(probe, { add_special_tokens: false }).ids;
    const full = tokenizer.encode(probe).ids;
    const at = full.indexOf(bare[0] ?? -1);
    if (bare.length !== 1 || at < 0 || full.length - 1 >= maxLength) {
      return null;
    }
    return new FastPathTokenizer(tokenizer, maxLength, full.slice(0, at), full.slice(at + 1));
  }

  /** Ids with the template's special tokens; the sentence is cut from the right to fit maxLength (as the reference). */
  encode(sentence: string): FastEncoding {
    const room = this.maxLength - this.prefix.length - this.suffix.length;
    // A sentence much longer than `room` tokens is cut to them anyway: tokenize a prefix ending at a space first. The
    // pre-tokenizer splits there, so the prefix's tokens are the sentence's first ones; if they already overflow the
    // room, the rest of the sentence cannot change the answer (2,000 characters: about a third of the work).
    const cut = sentence.lastIndexOf(' ', room * CHARACTERS_PER_TOKEN);
    if (sentence.length > room * CHARACTERS_PER_TOKEN && cut > 0) {
      const ids = this.tokenizer.encode(sentence.slice(0, cut), { add_special_tokens: false }).ids;
      if (ids.length > room) {
        return { ids: [...this.prefix, ...ids.slice(0, room), ...this.suffix], truncated: true };
      }
    }
    const ids = this.tokenizer.encode(sentence, { add_special_tokens: false }).ids;
    const truncated = ids.length > room;
    return { ids: [...this.prefix, ...(truncated ? ids.slice(0, room) : ids), ...this.suffix], truncated };
  }

  /** Compares this tokenizer with the reference (already set to truncate at maxLength) on every fast-path probe. */
  async verify(reference: ReferenceTokenizer, extra: readonly string[] = []): Promise<FastPathCheck> {
    const probes = [...fastPathProbes(), ...extra];
    const expected = await reference.encodeBatch(probes);
    for (const [i, probe] of probes.entries()) {
      const want = expected[i]!.getIds();
      const got = this.encode(probe).ids;
      if (want.length !== got.length || want.some((id, k) => id !== got[k])) {
        return {
          enabled: false,
          probes: probes.length,
          reason: `tokenizers.js differs from the reference on ${JSON.stringify(probe)}: [${got.join(', ')}] vs [${want.join(', ')}]`,
        };
      }
    }
    return { enabled: true, probes: probes.length };
  }
}
