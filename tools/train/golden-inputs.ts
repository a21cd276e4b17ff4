/**
 * Step 4 of training: the fixed sentences whose training-framework logits become the golden file, tokenized by
 * the service's tokenizer. golden.py adds PyTorch's logits; tests compare ONNX Runtime (and later the TF graph)
 * against them.
 *
 * Usage: tsx tools/train/golden-inputs.ts <tokenizer.json> <max-length> <out.json>
 */
import { writeFileSync } from 'node:fs';
import { BertTokenizer } from '../../src/model/bert.tokenizer.js';

const GOLDEN_SENTENCES: readonly string[] = [
  'this is a bad example',
  'this is a great example',
  'I love this movie, it is wonderful!',
  'The plot was dull and the acting was terrible.',
  'not bad at all',
  'not good at all',
  "it's a charming and often affecting journey.",
  'unflinchingly bleak and desperate',
  'A MIXED BAG: SOME GREAT SCENES, SOME BORING ONES.',
  'the movie is neither funny nor moving',
  'Zxqv blorf snargle!',
  'Café déjà vu — naïve résumé',
  '😀 great 👍',
  'ok',
  '.',
  'one of the best films of the year , and one of the most moving ' +
    'a gorgeous , witty , seductive movie that never once loses its footing '.repeat(12),
];

async function main(): Promise<void> {
  const [tokenizerPath, maxLengthArg, outPath] = process.argv.slice(2);
  if (!tokenizerPath || !maxLengthArg || !outPath) {
    throw new Error('usage: golden-inputs.ts <tokenizer.json> <max-length> <out.json>');
  }
  const tokenizer = BertTokenizer.fromFile(tokenizerPath, Number(maxLengthArg));
  const ids = await tokenizer.encodeIds(GOLDEN_SENTENCES);
  writeFileSync(outPath, JSON.stringify(GOLDEN_SENTENCES.map((sentence, i) => ({ sentence, input_ids: ids[i] }))));
}

await main();
