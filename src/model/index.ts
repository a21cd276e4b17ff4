export * from './bert.tokenizer.js';
export * from './fast-path.tokenizer.js';
export * from './classification.postprocessor.js';
export * from './logits.js';
export * from './model-bundle.js';
export * from './model.constants.js';
export * from './model.module.js';
export * from './tokenized-batch.js';
