/** The opened model bundle (`ModelBundle`). */
export const MODEL_BUNDLE = 'MODEL:BUNDLE';
/** The model's tokenizer (`BertTokenizer`). */
export const TOKENIZER = 'MODEL:TOKENIZER';
