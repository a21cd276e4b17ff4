/**
 * Test support for the exporter specs (SavedModel and ONNX): tiny random BERT checkpoints and a plain float64
 * re-implementation of BertForSequenceClassification (tools/train/bert.py: additive −10000 mask, exact erf GELU,
 * post-LN) that both exporters' graphs are checked against.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSafetensors } from '../safetensors.js';
import { bertLayerModules } from './bert.architecture.js';
import {
  CheckpointBuilder,
  embeddingsForward,
  encoderForward,
  id2label,
  linearForward,
  type TinyEncoderConfig,
  type Weights,
} from './transformer.test-support.js';

export { erf, random, type Weights } from './transformer.test-support.js';

export interface TinyConfig extends TinyEncoderConfig {
  types: number;
}

export function tinyCheckpoint(c: TinyConfig, seed: number): Weights {
  return new CheckpointBuilder(seed)
    .embeddings('bert.embeddings', c, { token_type_embeddings: c.types })
    .encoder(bertLayerModules, c)
    .linear('bert.pooler.dense', c.hidden, c.hidden)
    .linear('classifier', c.hidden, c.labels).weights;
}

/** The float64 logits of one sequence (BERT's additive −10000 mask on padded keys). */
export function referenceLogits(c: TinyConfig, w: Weights, ids: number[], mask: number[], types: number[]): number[] {
  const embedded = embeddingsForward(w, 'bert.embeddings', ids.length, (s) => [
    ['word_embeddings', ids[s] as number],
    ['position_embeddings', s],
    ['token_type_embeddings', types[s] as number],
  ]);
  const h = encoderForward(embedded, w, mask, {
    modules: bertLayerModules,
    layers: c.layers,
    heads: c.heads,
    activation: 'gelu',
    maskScore: (score, keep) => score + (1 - keep) * -10000,
  });
  const pooled = linearForward([h[0] as number[]], w, 'bert.pooler.dense').map((row) => row.map(Math.tanh));
  return linearForward(pooled, w, 'classifier')[0] as number[];
}

/** Writes `<dir>/config.json` (Hugging Face BertConfig) and `<dir>/model.safetensors` for a tiny checkpoint. */
export function writeTinyBertFolder(dir: string, c: TinyConfig, weights: Weights): void {
  writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(weights));
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      model_type: 'bert',
      vocab_size: c.vocab,
      hidden_size: c.hidden,
      num_hidden_layers: c.layers,
      num_attention_heads: c.heads,
      intermediate_size: c.intermediate,
      hidden_act: 'gelu',
      max_position_embeddings: c.positions,
      type_vocab_size: c.types,
      layer_norm_eps: 1e-12,
      id2label: id2label(c.labels),
    }),
  );
}
