import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BertTokenizer, FAST_PATH_TEXT } from '../src/model/index.js';
import { BERT_BASE_UNCASED_DIR, hasSst2, readSst2, sst2Path } from '../tools/common/sst2.js';

const BUNDLED = 'models/sentiment_analysis/1/tokenizer.json';
const BERT_BASE = join(BERT_BASE_UNCASED_DIR, 'tokenizer.json');

/**
 * The tokenizer fast path (tokenizers.js) against the Rust reference on the whole of SST-2 train and dev, with the
 * bundled tokenizer and with bert-base-uncased's own tokenizer.json. Needs ../shared; skips without it.
 */
describe('tokenizer fast path on SST-2', () => {
  const data = hasSst2('train') && hasSst2('dev') && existsSync(BERT_BASE);
  if (!data) {
    console.warn(
      `SST-2 or bert-base-uncased not found (${sst2Path('train')}): skipping the fast-path parity check (needs ../shared).`,
    );
  }
  const withData = data ? it : it.skip;

  withData.each([BUNDLED, BERT_BASE])(
    'should give the reference ids for every sentence (%s)',
    async (path) => {
      const sentences = [...readSst2('train'), ...readSst2('dev')].map((row) => row.sentence);
      const reference = BertTokenizer.fromFile(path, 128);
      const fast = BertTokenizer.fromFile(path, 128);
      expect((await fast.enableFastPath()).enabled).toBe(true);
      const taken = sentences.filter((sentence) => FAST_PATH_TEXT.test(sentence)).length;
      expect(taken / sentences.length).toBeGreaterThan(0.99);
      expect(await fast.encodeIds(sentences)).toEqual(await reference.encodeIds(sentences));
    },
    120_000,
  );
});
