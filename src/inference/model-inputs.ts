import type { ModelTensors } from '../model/index.js';

/** The inputs a Hugging Face BERT-family export may declare, and where each comes from in a batch. */
const SOURCES = {
  input_ids: (batch: ModelTensors) => batch.inputIds,
  attention_mask: (batch: ModelTensors) => batch.attentionMask,
  token_type_ids: (batch: ModelTensors) => batch.tokenTypeIds,
} as const;

export type ModelInputName = keyof typeof SOURCES;

export const MODEL_INPUT_NAMES = Object.keys(SOURCES) as ModelInputName[];

export function isModelInputName(name: string): name is ModelInputName {
  return Object.hasOwn(SOURCES, name);
}

/** The flat `[batchSize, sequenceLength]` values of one model input. */
export function inputValues(batch: ModelTensors, name: ModelInputName): Int32Array {
  return SOURCES[name](batch);
}

/** The same values as nested rows, for JSON. */
export function inputRows(batch: ModelTensors, name: ModelInputName): number[][] {
  const values = inputValues(batch, name);
  return Array.from({ length: batch.batchSize }, (_, r) =>
    Array.from(values.subarray(r * batch.sequenceLength, (r + 1) * batch.sequenceLength)),
  );
}
