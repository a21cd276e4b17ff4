/**
 * `config.json` of a checkpoint to import: what the exporters and the service need from it, checked up front so
 * every error names the file and the field.
 */
import { parseModelConfig } from '../../src/model/model-bundle.js';
import { ARCHITECTURES, type Architecture } from '../export/architectures/index.js';
import { readJsonFile } from '../export/model-folder.js';

export interface CheckpointConfig {
  readonly path: string;
  /** The parsed JSON, as the architectures read it. */
  readonly json: Record<string, unknown>;
  readonly architecture: Architecture;
  /** Labels in logit order, from `id2label`. */
  readonly labels: readonly string[];
  /** `vocab_size`: token ids must stay below it. */
  readonly vocabSize: number | undefined;
  /** `max_position_embeddings`. */
  readonly maxPositions: number;
}

export function readCheckpointConfig(path: string): CheckpointConfig {
  const json = readJsonFile(path);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`${path}: not a JSON object`);
  }
  const config = json as Record<string, unknown>;
  const known = [...ARCHITECTURES.keys()].join(', ');
  const modelType = config.model_type;
  if (modelType === undefined) {
    throw new Error(`${path}: model_type: missing (supported: ${known})`);
  }
  const architecture = typeof modelType === 'string' ? ARCHITECTURES.get(modelType) : undefined;
  if (architecture === undefined) {
    throw new Error(`${path}: model_type: ${JSON.stringify(modelType)} is not supported (supported: ${known})`);
  }
  const architectures = config.architectures;
  if (architectures !== undefined) {
    if (!Array.isArray(architectures) || !architectures.every((name) => typeof name === 'string')) {
      throw new Error(`${path}: architectures: must be a list of class names, got ${JSON.stringify(architectures)}`);
    }
    const other = architectures.find((name) => !name.endsWith('ForSequenceClassification'));
    if (other !== undefined) {
      throw new Error(
        `${path}: architectures: "${other}" is not a sequence-classification model (expected e.g. BertForSequenceClassification or DistilBertForSequenceClassification)`,
      );
    }
  }
  if (config.id2label === undefined) {
    throw new Error(
      `${path}: id2label: missing; the service answers with these labels (e.g. {"0": "NEGATIVE", "1": "POSITIVE"})`,
    );
  }
  // The service's own checks (id2label keys 0..n-1, problem_type served, max_position_embeddings), same messages.
  const served = parseModelConfig(path);
  const vocabSize = typeof config.vocab_size === 'number' ? config.vocab_size : undefined;
  return {
    path,
    json: config,
    architecture,
    labels: served.labels,
    vocabSize,
    maxPositions: served.maxLength,
  };
}
