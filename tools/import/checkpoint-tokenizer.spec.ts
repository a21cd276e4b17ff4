import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Tokenizer } from 'tokenizers';
import { BERT_BASE_UNCASED_DIR, REPO_ROOT } from '../common/sst2.js';
import { readCheckpointConfig } from './checkpoint-config.js';
import { buildBertTokenizer, parseVocabTxt, writeTokenizerFiles } from './checkpoint-tokenizer.js';

const DEFAULT_DIR = resolve(REPO_ROOT, 'models/sentiment_analysis/1');
const SENTENCES = [
  'this is a bad example',
  'A Touching, FUNNY film -- and the best of 2002!',
  'Café naïve résumé, über cool',
  '東京 is 好 (and so is "that")',
  "it's supercalifragilisticexpialidocious... isn't it?",
  'tab\tand\nnewline\u00a0nbsp\u200bzero-width',
];

/** JSON with object keys sorted: tokenizer.json files compared for meaning, not key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

describe('tokenizer files of an import', () => {
  let dir: string;
  const config = readCheckpointConfig(join(DEFAULT_DIR, 'config.json'));
  const vocabList = parseVocabTxt(readFileSync(join(DEFAULT_DIR, 'vocab.txt'), 'utf8'));
  const settings = JSON.parse(readFileSync(join(DEFAULT_DIR, 'tokenizer_config.json'), 'utf8')) as Record<
    string,
    unknown
  >;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'checkpoint-tokenizer-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A checkpoint folder holding some of the default model's files, plus `extra` ones. */
  function checkpoint(name: string, files: string[], extra: Record<string, string> = {}): string {
    const folder = join(dir, name);
    mkdirSync(folder, { recursive: true });
    files.forEach((file) => copyFileSync(join(DEFAULT_DIR, file), join(folder, file)));
    Object.entries(extra).forEach(([file, text]) => writeFileSync(join(folder, file), text));
    return folder;
  }

  it('should rebuild the default model’s tokenizer.json from its vocab.txt and tokenizer_config.json', () => {
    const path = join(dir, 'rebuilt.json');
    buildBertTokenizer(vocabList, settings).save(path);
    const rebuilt = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const committed = JSON.parse(readFileSync(join(DEFAULT_DIR, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    expect(canonical(rebuilt)).toBe(canonical(committed));
    expect(rebuilt.truncation).toBeNull();
    expect(rebuilt.padding).toBeNull();
  });

  it('should tokenize like the committed tokenizer.json (accents, CJK, punctuation, unknown words)', async () => {
    const rebuilt = buildBertTokenizer(vocabList, settings);
    const committed = Tokenizer.fromFile(join(DEFAULT_DIR, 'tokenizer.json'));
    for (const sentence of SENTENCES) {
      const [a, b] = await Promise.all([rebuilt.encode(sentence), committed.encode(sentence)]);
      expect(a.getIds()).toEqual(b.getIds());
      expect(a.getTypeIds()).toEqual(b.getTypeIds());
    }
  });

  // The real bert-base-uncased tokenizer.json (shared/, absent outside the team's machines and CI): what
  // transformers' BertConverter made of the same vocab.txt. Its model has no "type" key (older tokenizers format).
  const bertBase = join(BERT_BASE_UNCASED_DIR, 'vocab.txt');
  (existsSync(bertBase) ? it : it.skip)(
    'should rebuild bert-base-uncased’s tokenizer.json from its vocab.txt',
    async () => {
      const path = join(dir, 'bert-base-uncased.json');
      const rebuilt = buildBertTokenizer(parseVocabTxt(readFileSync(bertBase, 'utf8')), { do_lower_case: true });
      rebuilt.save(path);
      const ours = JSON.parse(readFileSync(path, 'utf8')) as { model: Record<string, unknown> };
      const hub = JSON.parse(readFileSync(join(BERT_BASE_UNCASED_DIR, 'tokenizer.json'), 'utf8')) as typeof ours;
      expect(canonical({ ...ours, model: { type: 'WordPiece', ...ours.model } })).toBe(
        canonical({ ...hub, model: { type: 'WordPiece', ...hub.model } }),
      );
      const reference = Tokenizer.fromFile(join(BERT_BASE_UNCASED_DIR, 'tokenizer.json'));
      for (const sentence of SENTENCES) {
        expect((await rebuilt.encode(sentence)).getIds()).toEqual((await reference.encode(sentence)).getIds());
      }
    },
  );

  it('should follow do_lower_case, strip_accents and tokenize_chinese_chars', () => {
    const path = join(dir, 'cased.json');
    buildBertTokenizer(vocabList, {
      do_lower_case: false,
      strip_accents: true,
      tokenize_chinese_chars: false,
    }).save(path);
    expect((JSON.parse(readFileSync(path, 'utf8')) as { normalizer: unknown }).normalizer).toEqual({
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: false,
      strip_accents: true,
      lowercase: false,
    });
  });

  it('should copy tokenizer.json and derive vocab.txt, tokenizer_config.json and special_tokens_map.json', () => {
    const source = checkpoint('json-only', ['tokenizer.json']);
    const target = mkdtempSync(join(dir, 'out-'));
    const imported = writeTokenizerFiles(source, config, target);
    expect(imported.origin).toBe('tokenizer.json (copied)');
    for (const file of ['tokenizer.json', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']) {
      expect(readFileSync(join(target, file), 'utf8')).toBe(readFileSync(join(DEFAULT_DIR, file), 'utf8'));
    }
  });

  it('should take special tokens given as AddedToken objects', () => {
    const source = checkpoint('added-token-objects', ['vocab.txt'], {
      'tokenizer_config.json': JSON.stringify({ unk_token: { content: '[UNK]', lstrip: false, special: true } }),
    });
    expect(() => writeTokenizerFiles(source, config, mkdtempSync(join(dir, 'out-')))).not.toThrow();
  });

  it('should name the file and the field of a special token missing from the vocabulary', () => {
    const source = checkpoint('bad-unk', ['vocab.txt'], {
      'tokenizer_config.json': JSON.stringify({ unk_token: '<unk>' }),
    });
    expect(() => writeTokenizerFiles(source, config, mkdtempSync(join(dir, 'out-')))).toThrow(
      `${join(source, 'tokenizer_config.json')}: unk_token "<unk>" is not in the vocabulary`,
    );
  });

  it('should refuse a tokenizer_class BertConverter does not cover, and a non-WordPiece tokenizer.json', () => {
    const roberta = checkpoint('roberta', ['vocab.txt'], {
      'tokenizer_config.json': JSON.stringify({ tokenizer_class: 'RobertaTokenizer' }),
    });
    expect(() => writeTokenizerFiles(roberta, config, mkdtempSync(join(dir, 'out-')))).toThrow(
      `${join(roberta, 'tokenizer_config.json')}: tokenizer_class: "RobertaTokenizer" cannot be rebuilt from vocab.txt`,
    );
    const bpe = checkpoint('bpe', [], { 'tokenizer.json': JSON.stringify({ model: { type: 'BPE', vocab: {} } }) });
    expect(() => writeTokenizerFiles(bpe, config, mkdtempSync(join(dir, 'out-')))).toThrow(
      `${join(bpe, 'tokenizer.json')}: model.type: "BPE" is not WordPiece`,
    );
  });

  it('should refuse token ids beyond config.json vocab_size', () => {
    const source = checkpoint('too-many-tokens', ['tokenizer.json']);
    expect(() => writeTokenizerFiles(source, { ...config, vocabSize: 100 }, mkdtempSync(join(dir, 'out-')))).toThrow(
      `${join(source, 'tokenizer.json')}: token id ${vocabList.length - 1} does not fit ${config.path} vocab_size 100`,
    );
  });

  it('should say when there is no tokenizer at all', () => {
    const source = checkpoint('none', []);
    expect(() => writeTokenizerFiles(source, config, mkdtempSync(join(dir, 'out-')))).toThrow(
      `${source}: no tokenizer.json or vocab.txt`,
    );
  });
});
