import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from 'tokenizers';
import { BertTokenizer } from './bert.tokenizer.js';
import { FAST_PATH_TEXT, FastPathTokenizer, fastPathProbes } from './fast-path.tokenizer.js';

const TOKENIZER = fileURLToPath(new URL('../../models/sentiment_analysis/1/tokenizer.json', import.meta.url));
const TOKENIZER_JSON: unknown = JSON.parse(readFileSync(TOKENIZER, 'utf8'));

/** Characters where tokenizers.js and the Rust reference disagree (Unicode 14 punctuation, astral CJK). */
const DIVERGENT = ['ꘉ⹍', 'ড⹄⮣റ', '𨛴󧕆𻤤'];

/** The fast path's whole alphabet, weighted towards what reviews are made of. */
const FAST_CHARS = [...new Set(fastPathProbes().map((probe) => probe[1]!))];
const sentence = (maxLength: number) =>
  fc.string({
    unit: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...'abcdefghij ABCDE  .,!?\'"-') },
      { weight: 1, arbitrary: fc.constantFrom(...FAST_CHARS) },
    ),
    maxLength,
    size: 'max',
  });

function reference(maxLength: number): BertTokenizer {
  return BertTokenizer.fromFile(TOKENIZER, maxLength);
}

async function fast(maxLength: number): Promise<BertTokenizer> {
  const tokenizer = BertTokenizer.fromFile(TOKENIZER, maxLength);
  const check = await tokenizer.enableFastPath();
  expect(check).toEqual({ enabled: true, probes: expect.any(Number) as number });
  return tokenizer;
}

describe(FastPathTokenizer.name, () => {
  it('should turn on for the bundled tokenizer after checking every character it may see', async () => {
    const tokenizer = BertTokenizer.fromFile(TOKENIZER, 128);
    expect(tokenizer.fastPath).toBe(false);
    const check = await tokenizer.enableFastPath();
    expect(check.enabled).toBe(true);
    expect(check.probes).toBeGreaterThan(FAST_CHARS.length);
    expect(tokenizer.fastPath).toBe(true);
    expect(FAST_CHARS.length).toBe(0x370 + 0x70 + 1);
  });

  it.each([8, 48])(
    'should give the reference ids and truncation flags on fuzzed text it takes (maxLength %i)',
    async (maxLength) => {
      const [slow, quick] = [reference(maxLength), await fast(maxLength)];
      // Up to 10 characters per token: long enough for the fast path's cut prefix (6 per token) and its fallback.
      const sentences = fc.sample(sentence(maxLength * 10), { numRuns: 3000, seed: maxLength });
      expect(sentences.every((text) => FAST_PATH_TEXT.test(text))).toBe(true);
      const want = await slow.encodeBatch(sentences);
      // One request per sentence: the fast path takes requests of up to 16,000 characters.
      const got = await Promise.all(sentences.map((text) => quick.encodeBatch([text])));
      expect(got.map((one) => one.lengths[0])).toEqual(want.lengths);
      expect(got.map((one) => one.truncated[0])).toEqual(want.truncated);
      expect(got.some((one) => one.truncated[0])).toBe(true);
      const row = (i: number) => [
        ...want.inputIds.subarray(i * want.sequenceLength, i * want.sequenceLength + want.lengths[i]!),
      ];
      expect(got.map((one) => [...one.inputIds])).toEqual(sentences.map((_, i) => row(i)));
    },
  );

  it('should leave text where the two implementations differ to the reference, in order within a batch', async () => {
    const [slow, quick] = [reference(128), await fast(128)];
    const js = FastPathTokenizer.create(TOKENIZER_JSON, 128)!;
    const sentences = ['a fine film', ...DIVERGENT, 'Σ', 'not good'];
    for (const text of DIVERGENT) {
      // The premise: tokenizers.js on its own gets these wrong.
      expect(js.encode(text).ids).not.toEqual((await slow.encodeIds([text]))[0]);
      expect(FAST_PATH_TEXT.test(text)).toBe(false);
    }
    expect(await quick.encodeIds(sentences)).toEqual(await slow.encodeIds(sentences));
  });

  it('should refuse to turn on when any probe differs from the reference, and say which', async () => {
    const js = FastPathTokenizer.create(TOKENIZER_JSON, 128)!;
    const reference = Tokenizer.fromFile(TOKENIZER);
    reference.setTruncation(128);
    const check = await js.verify(reference, ['fine', DIVERGENT[0]!]);
    expect(check.enabled).toBe(false);
    expect(check).toMatchObject({ reason: expect.stringContaining(JSON.stringify(DIVERGENT[0])) as string });
  });

  it('should refuse a tokenizer.json tokenizers.js cannot read', () => {
    expect(FastPathTokenizer.create({ model: { type: 'NoSuchModel' } }, 128)).toBeNull();
  });
});
