import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BertTokenizer } from './bert.tokenizer.js';

const TOKENIZER = fileURLToPath(new URL('../../models/sentiment_analysis/1/tokenizer.json', import.meta.url));

describe(BertTokenizer.name, () => {
  const tokenizer = BertTokenizer.fromFile(resolve(TOKENIZER), 8);
  const cls = tokenizer.tokenToId('[CLS]');
  const sep = tokenizer.tokenToId('[SEP]');

  it('should lower-case, split punctuation and wrap in [CLS] ... [SEP]', async () => {
    expect(await tokenizer.tokens('This is BAD!')).toEqual(['[CLS]', 'this', 'is', 'bad', '!', '[SEP]']);
  });

  it('should pad each batch to its own longest row, with masks and zero type ids', async () => {
    const batch = await tokenizer.encodeBatch(['good', 'not good at all']);
    expect(batch.batchSize).toBe(2);
    expect(batch.sequenceLength).toBe(6);
    expect(batch.lengths).toEqual([3, 6]);
    expect([...batch.attentionMask]).toEqual([1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    expect([...batch.inputIds.subarray(3, 6)]).toEqual([tokenizer.padId, tokenizer.padId, tokenizer.padId]);
    expect([...batch.tokenTypeIds]).toEqual(new Array(12).fill(0));
    expect(batch.truncated).toEqual([false, false]);
  });

  it('should truncate to maxLength keeping [SEP] last, and flag it', async () => {
    const batch = await tokenizer.encodeBatch(['one two three four five six seven eight nine']);
    expect(batch.sequenceLength).toBe(8);
    expect(batch.inputIds[0]).toBe(cls);
    expect(batch.inputIds[7]).toBe(sep);
    expect(batch.truncated).toEqual([true]);
  });

  it('should map unknown characters to [UNK] rather than fail', async () => {
    const tokens = await tokenizer.tokens('漢');
    expect(tokens).toEqual(['[CLS]', '[UNK]', '[SEP]']);
  });

  it('should refuse a maximum length that cannot hold [CLS] and [SEP]', () => {
    expect(() => BertTokenizer.fromFile(TOKENIZER, 1)).toThrow(/maxLength must be an integer >= 2/);
  });
});
