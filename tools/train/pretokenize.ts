/**
 * Step 2 of training: tokenize SST-2 with the model's tokenizer.json through the same `BertTokenizer` class the
 * service uses, and write the ids for the Python trainer. Training therefore never tokenizes on its own.
 *
 * Usage: tsx tools/train/pretokenize.ts <tokenizer.json> <max-length> <out.json>
 */
import { writeFileSync } from 'node:fs';
import { BertTokenizer } from '../../src/model/bert.tokenizer.js';
import { readSst2, type Sst2Split } from '../common/sst2.js';

async function main(): Promise<void> {
  const [tokenizerPath, maxLengthArg, outPath] = process.argv.slice(2);
  if (!tokenizerPath || !maxLengthArg || !outPath) {
    throw new Error('usage: pretokenize.ts <tokenizer.json> <max-length> <out.json>');
  }
  const tokenizer = BertTokenizer.fromFile(tokenizerPath, Number(maxLengthArg));
  const out: Record<string, unknown> = {
    vocab_size: tokenizer.vocabSize,
    special: Object.fromEntries(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((t) => [t, tokenizer.tokenToId(t)])),
  };
  for (const split of ['train', 'dev'] as Sst2Split[]) {
    const rows = readSst2(split);
    out[split] = {
      ids: await tokenizer.encodeIds(rows.map((row) => row.sentence)),
      labels: rows.map((row) => row.label),
    };
  }
  writeFileSync(outPath, JSON.stringify(out));
}

await main();
