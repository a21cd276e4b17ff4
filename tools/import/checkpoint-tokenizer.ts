/**
 * The tokenizer files of an imported version folder: `tokenizer.json` (what the service runs), `vocab.txt`,
 * `tokenizer_config.json` and `special_tokens_map.json`.
 *
 * A checkpoint with a `tokenizer.json` (a fast tokenizer's save_pretrained) keeps it byte for byte. One with only the
 * slow tokenizer's `vocab.txt` (+ `tokenizer_config.json`, as distilbert-base-uncased-finetuned-sst-2-english) gets
 * the `tokenizer.json` transformers' `BertConverter` would derive (shared/reference/hf-checkpoints.md §5.3), built
 * with the `tokenizers` library: BertNormalizer (lowercase = do_lower_case, strip_accents, CJK splitting),
 * BertPreTokenizer, WordPiece (`[UNK]`, `##`, 100 characters), TemplateProcessing `[CLS] $A [SEP]` /
 * `[CLS] $A [SEP] $B:1 [SEP]:1`, WordPiece decoder, the special tokens as added tokens, and no truncation or padding
 * (the service sets its own), as in the bundled model's tokenizer.json.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bertNormalizer,
  bertPreTokenizer,
  templateProcessing,
  Tokenizer,
  WordPiece,
  wordPieceDecoder,
} from 'tokenizers';
import { readJsonFile } from '../export/model-folder.js';
import type { CheckpointConfig } from './checkpoint-config.js';

export const TOKENIZER_FILES = {
  tokenizer: 'tokenizer.json',
  vocab: 'vocab.txt',
  config: 'tokenizer_config.json',
  specialTokens: 'special_tokens_map.json',
} as const;

/** Special tokens of a BERT tokenizer, by their tokenizer_config.json key, with transformers' defaults. */
const SPECIAL_TOKEN_DEFAULTS = {
  unk_token: '[UNK]',
  sep_token: '[SEP]',
  pad_token: '[PAD]',
  cls_token: '[CLS]',
  mask_token: '[MASK]',
} as const;
type SpecialTokenKey = keyof typeof SPECIAL_TOKEN_DEFAULTS;
type SpecialTokens = Record<SpecialTokenKey, string>;

/** Slow tokenizer classes whose vocab.txt `BertConverter` turns into a tokenizer.json. */
const BERT_TOKENIZER_CLASSES = ['BertTokenizer', 'BertTokenizerFast', 'DistilBertTokenizer', 'DistilBertTokenizerFast'];

export interface ImportedTokenizer {
  /** How tokenizer.json was obtained, for the summary. */
  readonly origin: string;
  /** Tokens, added tokens included. */
  readonly vocabSize: number;
}

function readObject(path: string): Record<string, unknown> {
  const json = readJsonFile(path);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`${path}: not a JSON object`);
  }
  return json as Record<string, unknown>;
}

/** A special token's text: a string, or an AddedToken object `{"content": ...}` as newer transformers write it. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

/** Special tokens from tokenizer_config.json, then special_tokens_map.json, then the BERT defaults. */
function specialTokens(...sources: Record<string, unknown>[]): SpecialTokens {
  const resolved = { ...SPECIAL_TOKEN_DEFAULTS } as SpecialTokens;
  for (const key of Object.keys(SPECIAL_TOKEN_DEFAULTS) as SpecialTokenKey[]) {
    const found = sources.map((source) => tokenText(source[key])).find((text) => text !== undefined);
    if (found !== undefined) {
      resolved[key] = found;
    }
  }
  return resolved;
}

/** vocab.txt as transformers' `load_vocab` reads it: one token per line, the id is the line index. */
export function parseVocabTxt(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') {
    lines.pop();
  }
  return lines;
}

/** A WordPiece `tokenizer.json` built from a vocabulary and the slow tokenizer's settings (BertConverter). */
export function buildBertTokenizer(vocabList: readonly string[], settings: Record<string, unknown>): Tokenizer {
  const tokens = specialTokens(settings);
  // Later duplicates win, as in transformers' dict-based vocab.
  const vocab: Record<string, number> = Object.fromEntries(vocabList.map((token, id) => [token, id]));
  const basic = settings.do_basic_tokenize !== false;
  const flag = (key: string, fallback: boolean | undefined): boolean | undefined =>
    typeof settings[key] === 'boolean' ? settings[key] : fallback;
  const tokenizer = new Tokenizer(
    WordPiece.init(vocab, { unkToken: tokens.unk_token, continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 }),
  );
  tokenizer.setNormalizer(
    bertNormalizer({
      cleanText: true,
      handleChineseChars: basic ? flag('tokenize_chinese_chars', true) : false,
      // Omitted (null in tokenizer.json) means "strip accents when lowercasing", transformers' default.
      stripAccents: basic ? flag('strip_accents', undefined) : false,
      lowercase: basic ? flag('do_lower_case', true) : false,
    }),
  );
  tokenizer.setPreTokenizer(bertPreTokenizer());
  const cls = tokens.cls_token;
  const sep = tokens.sep_token;
  tokenizer.setPostProcessor(
    templateProcessing(`${cls} $A ${sep}`, `${cls} $A ${sep} $B:1 ${sep}:1`, [
      [cls, vocab[cls] as number],
      [sep, vocab[sep] as number],
    ]),
  );
  tokenizer.setDecoder(wordPieceDecoder('##', true));
  tokenizer.addSpecialTokens(
    (Object.keys(SPECIAL_TOKEN_DEFAULTS) as SpecialTokenKey[]).map((key) => tokens[key]).filter((t) => t in vocab),
  );
  return tokenizer;
}

function checkSpecialTokens(tokens: SpecialTokens, has: (token: string) => boolean, where: string): void {
  for (const key of ['unk_token', 'sep_token', 'pad_token', 'cls_token'] as const) {
    if (!has(tokens[key])) {
      throw new Error(`${where}: ${key} "${tokens[key]}" is not in the vocabulary`);
    }
  }
}

/** The WordPiece vocabulary of a tokenizer.json, by id; ids must be 0..n-1. */
function wordPieceVocab(json: Record<string, unknown>, path: string): string[] {
  const model = json.model as { type?: unknown; vocab?: unknown } | undefined;
  if (typeof model !== 'object' || model === null || (model.type !== undefined && model.type !== 'WordPiece')) {
    throw new Error(
      `${path}: model.type: ${JSON.stringify(model?.type)} is not WordPiece (BERT and DistilBERT tokenizers are WordPiece)`,
    );
  }
  if (typeof model.vocab !== 'object' || model.vocab === null) {
    throw new Error(`${path}: model.vocab: missing`);
  }
  const byId: string[] = [];
  for (const [token, id] of Object.entries(model.vocab as Record<string, unknown>)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || byId[id] !== undefined) {
      throw new Error(`${path}: model.vocab: token ${JSON.stringify(token)} has id ${JSON.stringify(id)}`);
    }
    byId[id] = token;
  }
  const gap = byId.findIndex((token) => token === undefined);
  if (gap >= 0 || byId.length !== Object.keys(model.vocab).length) {
    throw new Error(`${path}: model.vocab: ids are not 0..${byId.length - 1} (no token has id ${gap})`);
  }
  return byId;
}

/** Writes the four tokenizer files of `sourceDir` (or their derivations) into `targetDir`. */
export function writeTokenizerFiles(sourceDir: string, config: CheckpointConfig, targetDir: string): ImportedTokenizer {
  const source = (file: string) => join(sourceDir, file);
  const target = (file: string) => join(targetDir, file);
  const configPath = source(TOKENIZER_FILES.config);
  const tokenizerConfig = existsSync(configPath) ? readObject(configPath) : undefined;
  const mapPath = source(TOKENIZER_FILES.specialTokens);
  const specialTokensMap = existsSync(mapPath) ? readObject(mapPath) : undefined;
  const tokens = specialTokens(tokenizerConfig ?? {}, specialTokensMap ?? {});

  let tokenizer: Tokenizer;
  let origin: string;
  let lowercase: boolean | undefined;
  /** vocab.txt's text when it is derived from tokenizer.json; undefined: the checkpoint's own is copied. */
  let derivedVocab: string | undefined;
  const jsonPath = source(TOKENIZER_FILES.tokenizer);
  const vocabPath = source(TOKENIZER_FILES.vocab);
  if (existsSync(jsonPath)) {
    const json = readObject(jsonPath);
    const vocabList = wordPieceVocab(json, jsonPath);
    try {
      tokenizer = Tokenizer.fromFile(jsonPath);
    } catch (error) {
      throw new Error(`${jsonPath}: the tokenizers library cannot load it: ${(error as Error).message}`);
    }
    checkSpecialTokens(tokens, (token) => tokenizer.tokenToId(token) !== null, jsonPath);
    copyFileSync(jsonPath, target(TOKENIZER_FILES.tokenizer));
    const normalizer = json.normalizer as { type?: unknown; lowercase?: unknown } | null | undefined;
    lowercase =
      normalizer?.type === 'BertNormalizer' && typeof normalizer.lowercase === 'boolean'
        ? normalizer.lowercase
        : undefined;
    origin = `${TOKENIZER_FILES.tokenizer} (copied)`;
    derivedVocab = existsSync(vocabPath) ? undefined : `${vocabList.join('\n')}\n`;
  } else if (existsSync(vocabPath)) {
    const tokenizerClass = tokenizerConfig?.tokenizer_class;
    if (
      tokenizerClass !== undefined &&
      (typeof tokenizerClass !== 'string' || !BERT_TOKENIZER_CLASSES.includes(tokenizerClass))
    ) {
      throw new Error(
        `${configPath}: tokenizer_class: ${JSON.stringify(tokenizerClass)} cannot be rebuilt from ${TOKENIZER_FILES.vocab} (supported: ${BERT_TOKENIZER_CLASSES.join(', ')}); include its tokenizer.json instead`,
      );
    }
    const vocabList = parseVocabTxt(readFileSync(vocabPath, 'utf8'));
    if (vocabList.length === 0) {
      throw new Error(`${vocabPath}: empty vocabulary`);
    }
    const vocab = new Set(vocabList);
    checkSpecialTokens(tokens, (token) => vocab.has(token), tokenizerConfig === undefined ? vocabPath : configPath);
    const settings: Record<string, unknown> = { ...(tokenizerConfig ?? {}), ...tokens };
    tokenizer = buildBertTokenizer(vocabList, settings);
    tokenizer.save(target(TOKENIZER_FILES.tokenizer));
    lowercase = typeof settings.do_lower_case === 'boolean' ? settings.do_lower_case : true;
    origin = `built from ${TOKENIZER_FILES.vocab} + ${tokenizerConfig === undefined ? "BertTokenizer's defaults" : TOKENIZER_FILES.config} (lowercase: ${lowercase})`;
  } else {
    throw new Error(
      `${sourceDir}: no ${TOKENIZER_FILES.tokenizer} or ${TOKENIZER_FILES.vocab} (the tokenizer files save_pretrained writes)`,
    );
  }

  // Ids at or above config.json's vocab_size have no embedding row.
  const maxId = Math.max(...Object.values(tokenizer.getVocab(true)));
  if (config.vocabSize !== undefined && maxId >= config.vocabSize) {
    throw new Error(
      `${existsSync(jsonPath) ? jsonPath : vocabPath}: token id ${maxId} does not fit ${config.path} vocab_size ${config.vocabSize}`,
    );
  }

  if (derivedVocab === undefined) {
    copyFileSync(vocabPath, target(TOKENIZER_FILES.vocab));
  } else {
    writeFileSync(target(TOKENIZER_FILES.vocab), derivedVocab);
  }
  if (tokenizerConfig !== undefined) {
    copyFileSync(configPath, target(TOKENIZER_FILES.config));
  } else {
    const generated = {
      tokenizer_class: config.architecture.modelType === 'distilbert' ? 'DistilBertTokenizer' : 'BertTokenizer',
      ...(lowercase === undefined ? {} : { do_lower_case: lowercase }),
      model_max_length: config.maxPositions,
      ...Object.fromEntries(
        (Object.keys(SPECIAL_TOKEN_DEFAULTS) as SpecialTokenKey[]).map((key) => [key, tokens[key]]),
      ),
    };
    writeFileSync(target(TOKENIZER_FILES.config), `${JSON.stringify(generated, null, 2)}\n`);
  }
  if (specialTokensMap !== undefined) {
    copyFileSync(mapPath, target(TOKENIZER_FILES.specialTokens));
  } else {
    const keys = (Object.keys(SPECIAL_TOKEN_DEFAULTS) as SpecialTokenKey[]).sort();
    writeFileSync(
      target(TOKENIZER_FILES.specialTokens),
      `${JSON.stringify(Object.fromEntries(keys.map((key) => [key, tokens[key]])))}\n`,
    );
  }
  return { origin, vocabSize: tokenizer.getVocabSize(true) };
}
