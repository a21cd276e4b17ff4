import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from './app.js';

export interface TorchGoldenCase {
  readonly sentence: string;
  /** Token ids the training side produced ([CLS] … [SEP]). */
  readonly input_ids: number[];
  /** PyTorch's logits for the sentence, unpadded. */
  readonly logits: number[];
}

/** The bundled model's golden file: sentences, their ids and PyTorch's logits at the end of training. */
export const TORCH_GOLDEN = JSON.parse(
  readFileSync(resolve(REPO_ROOT, 'test/fixtures/golden/sentiment_analysis.torch-logits.json'), 'utf8'),
) as { readonly framework: string; readonly cases: readonly TorchGoldenCase[] };
