/**
 * Test support for the DistilBERT exports: tiny random DistilBertForSequenceClassification checkpoints (PyTorch
 * parameter names) and a plain float64 re-implementation of its forward pass (transformers' modeling_distilbert.py:
 * word + position embeddings without token types, padded keys' scores filled with −∞ so they get exactly zero
 * weight, post-LN layers with eps 1e-12, `activation` gelu or relu, [CLS] → pre_classifier → ReLU → classifier).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSafetensors } from '../safetensors.js';
import { distilBertLayerModules } from './distilbert.architecture.js';
import {
  CheckpointBuilder,
  embeddingsForward,
  encoderForward,
  id2label,
  linearForward,
  type ReferenceActivation,
  type TinyEncoderConfig,
  type Weights,
} from './transformer.test-support.js';

/** `hidden` is config.json's `dim`, `intermediate` its `hidden_dim`. */
export interface TinyDistilBertConfig extends TinyEncoderConfig {
  activation: ReferenceActivation;
  /** Label names in id2label order; `LABEL_i` when absent. */
  labelNames?: readonly string[];
}

export function tinyDistilBertCheckpoint(c: TinyDistilBertConfig, seed: number): Weights {
  return new CheckpointBuilder(seed)
    .embeddings('distilbert.embeddings', c)
    .encoder(distilBertLayerModules, c)
    .linear('pre_classifier', c.hidden, c.hidden)
    .linear('classifier', c.hidden, c.labels).weights;
}

/** The float64 logits of one sequence; `mask` is 1 for real tokens, 0 for padding. */
export function referenceDistilBertLogits(
  c: TinyDistilBertConfig,
  w: Weights,
  ids: readonly number[],
  mask: readonly number[],
): number[] {
  const embedded = embeddingsForward(w, 'distilbert.embeddings', ids.length, (s) => [
    ['word_embeddings', ids[s] as number],
    ['position_embeddings', s],
  ]);
  const h = encoderForward(embedded, w, mask, {
    modules: distilBertLayerModules,
    layers: c.layers,
    heads: c.heads,
    activation: c.activation,
    // PyTorch: scores.masked_fill(mask == 0, finfo.min); −∞ gives the same exactly-zero weight in float64.
    maskScore: (score, keep) => (keep === 0 ? Number.NEGATIVE_INFINITY : score),
  });
  const pre = linearForward([h[0] as number[]], w, 'pre_classifier').map((row) => row.map((x) => Math.max(0, x)));
  return linearForward(pre, w, 'classifier')[0] as number[];
}

/** A Hugging Face `DistilBertConfig` JSON, as `save_pretrained` writes one (no layer_norm_eps, no type_vocab_size). */
export function distilBertConfigJson(c: TinyDistilBertConfig): Record<string, unknown> {
  const labels = id2label(c.labelNames ?? c.labels);
  return {
    activation: c.activation,
    architectures: ['DistilBertForSequenceClassification'],
    attention_dropout: 0.1,
    dim: c.hidden,
    dropout: 0.1,
    hidden_dim: c.intermediate,
    id2label: labels,
    initializer_range: 0.02,
    label2id: Object.fromEntries(Object.entries(labels).map(([id, label]) => [label, Number(id)])),
    max_position_embeddings: c.positions,
    model_type: 'distilbert',
    n_heads: c.heads,
    n_layers: c.layers,
    pad_token_id: 0,
    qa_dropout: 0.1,
    seq_classif_dropout: 0.2,
    sinusoidal_pos_embds: false,
    tie_weights_: true,
    vocab_size: c.vocab,
  };
}

/** Writes `<dir>/config.json` and `<dir>/model.safetensors` for a tiny DistilBERT checkpoint. */
export function writeTinyDistilBertFolder(dir: string, c: TinyDistilBertConfig, weights: Weights): void {
  writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(weights));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(distilBertConfigJson(c), null, 2));
}
