import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, resolved from this file's location (tools/common/). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Where the shared SST-2 copy lives. It is only present on the team's machines and in CI
 * (`../shared/datasets/sst2` next to the repository); `SST2_DIR` overrides it.
 */
export const SST2_DIR = resolve(process.env.SST2_DIR ?? resolve(REPO_ROOT, '../shared/datasets/sst2'));

export const BERT_BASE_UNCASED_DIR = resolve(
  process.env.BERT_VOCAB_DIR ?? resolve(REPO_ROOT, '../shared/datasets/bert-base-uncased'),
);

export interface LabelledSentence {
  readonly sentence: string;
  readonly label: number;
}

export type Sst2Split = 'train' | 'dev';

export function sst2Path(split: Sst2Split): string {
  return resolve(SST2_DIR, `${split}.tsv`);
}

export function hasSst2(split: Sst2Split = 'dev'): boolean {
  return existsSync(sst2Path(split));
}

/**
 * Reads a GLUE SST-2 split (`sentence<TAB>label`, one header line). Lines are split on `\n` only and fields on
 * the last TAB, as the dataset README prescribes; the sentence keeps its trailing space (the tokenizer drops it).
 */
export function readSst2(split: Sst2Split): LabelledSentence[] {
  const lines = readFileSync(sst2Path(split), 'utf8').split('\n');
  const header = lines[0];
  if (header !== 'sentence\tlabel') {
    throw new Error(`${sst2Path(split)}: unexpected header ${JSON.stringify(header)}`);
  }
  return lines
    .slice(1)
    .filter((line) => line.length > 0)
    .map((line, index) => {
      const tab = line.lastIndexOf('\t');
      const label = Number(line.slice(tab + 1));
      if (tab < 0 || (label !== 0 && label !== 1)) {
        throw new Error(`${sst2Path(split)}:${index + 2}: expected "sentence<TAB>0|1"`);
      }
      return { sentence: line.slice(0, tab), label };
    });
}
