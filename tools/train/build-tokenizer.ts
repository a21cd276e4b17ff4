/**
 * Step 1 of training: derive the default model's WordPiece vocabulary from bert-base-uncased.
 *
 * The full 30,522-token vocabulary would cost 3.9 M embedding parameters, most of them never seen in SST-2 and so
 * never trained. We keep: the five special tokens, every token the bert-base-uncased tokenizer produces on
 * `train.tsv`, and every printable-ASCII character with its `##` continuation (so an unseen word still splits
 * into trained pieces instead of one `[UNK]`). Because every piece the full vocabulary chose on the training text
 * is kept, greedy longest-match WordPiece tokenizes the training text exactly as bert-base-uncased does; this
 * script checks that, sentence by sentence, before writing anything.
 *
 * Writes tokenizer.json (Hugging Face `tokenizers` format), vocab.txt, tokenizer_config.json and
 * special_tokens_map.json into the output folder.
 *
 * Usage: tsx tools/train/build-tokenizer.ts <out-dir> <max-length>
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BertTokenizer } from '../../src/model/bert.tokenizer.js';
import { BERT_BASE_UNCASED_DIR, readSst2 } from '../common/sst2.js';

const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

interface TokenizerJson {
  added_tokens: { id: number; content: string }[];
  post_processor: { special_tokens: Record<string, { ids: number[] }> };
  model: { type?: string; vocab: Record<string, number> };
  [key: string]: unknown;
}

async function main(): Promise<void> {
  const [outDir, maxLengthArg] = process.argv.slice(2);
  if (!outDir || !maxLengthArg) {
    throw new Error('usage: build-tokenizer.ts <out-dir> <max-length>');
  }
  const maxLength = Number(maxLengthArg);
  const sourcePath = resolve(BERT_BASE_UNCASED_DIR, 'tokenizer.json');
  const source = JSON.parse(readFileSync(sourcePath, 'utf8')) as TokenizerJson;
  const full = BertTokenizer.fromFile(sourcePath, maxLength);
  const sentences = readSst2('train').map((row) => row.sentence);

  // Step 1. Which pieces does the full vocabulary use on the training text?
  const used = new Set<number>();
  for (const ids of await full.encodeIds(sentences)) {
    ids.forEach((id) => used.add(id));
  }

  // Step 2. Keep them, the special tokens and printable ASCII (plain and ## forms), in the original order.
  const keep = new Set<string>();
  const byId = Object.entries(source.model.vocab).sort((a, b) => a[1] - b[1]);
  for (const [token, id] of byId) {
    const bare = token.startsWith('##') ? token.slice(2) : token;
    const printableAscii = bare.length === 1 && bare >= '!' && bare <= '~';
    if (used.has(id) || printableAscii) {
      keep.add(token);
    }
  }
  SPECIAL_TOKENS.forEach((token) => keep.delete(token));
  const vocabList = [...SPECIAL_TOKENS, ...byId.map(([token]) => token).filter((token) => keep.has(token))];
  const vocab = Object.fromEntries(vocabList.map((token, id) => [token, id]));

  // Step 3. Rewrite the tokenizer.json with the new ids.
  const derived: TokenizerJson = {
    ...source,
    truncation: null,
    padding: null,
    added_tokens: source.added_tokens.map((token) => ({ ...token, id: vocab[token.content] as number })),
    post_processor: {
      ...source.post_processor,
      special_tokens: Object.fromEntries(
        Object.entries(source.post_processor.special_tokens).map(([name, spec]) => [
          name,
          { ...spec, ids: [vocab[name] as number] },
        ]),
      ),
    },
    model: { type: 'WordPiece', ...source.model, vocab },
  };
  mkdirSync(outDir, { recursive: true });
  const tokenizerPath = resolve(outDir, 'tokenizer.json');
  writeFileSync(tokenizerPath, JSON.stringify(derived));

  // Step 4. Prove the training text tokenizes to the same pieces as with the full vocabulary.
  const small = BertTokenizer.fromFile(tokenizerPath, maxLength);
  for (const sentence of sentences) {
    const [a, b] = await Promise.all([full.tokens(sentence), small.tokens(sentence)]);
    if (a.join(' ') !== b.join(' ')) {
      throw new Error(`tokenization differs for ${JSON.stringify(sentence)}: ${a.join(' ')} vs ${b.join(' ')}`);
    }
  }

  writeFileSync(resolve(outDir, 'vocab.txt'), `${vocabList.join('\n')}\n`);
  writeFileSync(
    resolve(outDir, 'tokenizer_config.json'),
    `${JSON.stringify(
      {
        tokenizer_class: 'BertTokenizer',
        do_lower_case: true,
        model_max_length: maxLength,
        unk_token: '[UNK]',
        sep_token: '[SEP]',
        pad_token: '[PAD]',
        cls_token: '[CLS]',
        mask_token: '[MASK]',
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(
    resolve(outDir, 'special_tokens_map.json'),
    `${JSON.stringify({ cls_token: '[CLS]', mask_token: '[MASK]', pad_token: '[PAD]', sep_token: '[SEP]', unk_token: '[UNK]' })}\n`,
  );
  console.log(
    JSON.stringify({
      sourceVocab: byId.length,
      vocab: vocabList.length,
      usedOnTrain: used.size,
      sentences: sentences.length,
    }),
  );
}

await main();
