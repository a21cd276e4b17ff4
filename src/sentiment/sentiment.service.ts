import type { InferenceStrategy, ServedModel } from '../inference/index.js';
import { type BertTokenizer, type Prediction, toPredictions } from '../model/index.js';

export interface Classification {
  readonly predictions: Prediction[];
  /** The model that answered (name, version, backend), for response headers. */
  readonly model: ServedModel;
  /** Whether each sentence was cut to the model's maximum token count. */
  readonly truncated: readonly boolean[];
}

/**
 * The request path, runtime-agnostic: tokenize → strategy → softmax + id2label. One instance per API version,
 * each over its own strategy; nothing here knows which runtime computed the logits.
 */
export class SentimentService {
  constructor(
    private readonly strategy: InferenceStrategy,
    private readonly tokenizer: BertTokenizer,
    private readonly labels: readonly string[],
  ) {}

  async classify(sentences: readonly string[]): Promise<Classification> {
    const batch = await this.tokenizer.encodeBatch(sentences);
    const logits = await this.strategy.infer(batch);
    const model = this.strategy.model;
    if (logits.rows !== sentences.length) {
      throw new Error(`the ${model.backend} backend returned ${logits.rows} rows for ${sentences.length} sentences`);
    }
    return { predictions: toPredictions(logits, this.labels), model, truncated: batch.truncated };
  }

  get served(): ServedModel {
    return this.strategy.model;
  }

  get labelNames(): readonly string[] {
    return this.labels;
  }

  get maxTokens(): number {
    return this.tokenizer.maxLength;
  }
}
