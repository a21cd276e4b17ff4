/**
 * `DistilBertForSequenceClassification` (Hugging Face names and semantics) described once in the IR, on the same
 * encoder blocks as BERT:
 *
 *   E = LayerNorm(W_word[input_ids] + W_pos[0..S-1])            no token type embeddings, no token_type_ids input
 *   mask = (1 − attention_mask)·(−1e30), broadcast over query rows
 *   n_layers × post-LN layer: s = sa_layer_norm(h + out_lin(Attention(h))); h' = output_layer_norm(s + lin2(act(lin1(s))))
 *   logits = classifier(ReLU(pre_classifier(h_L[:, 0])))
 *
 * Every LayerNorm uses eps 1e-12: DistilBERT hard-codes it (config.json has no layer_norm_eps). `activation` is
 * "gelu" (exact erf GELU, the default) or "relu". `sinusoidal_pos_embds` only says how PyTorch initialised the
 * position table; the table is a stored parameter either way and is read from the checkpoint as is.
 *
 * Mask: PyTorch fills padded keys' scores with finfo(float32).min, TF DistilBERT subtracts 1e30·(1 − mask); both
 * give padded keys exactly zero weight after the float32 softmax, as this additive −1e30 does (the graph matches the
 * TF formula). PyTorch scales q by 1/√d before q·kᵀ, the shared block scales the product: the same up to float32
 * rounding.
 */
import { z } from 'zod';
import { GraphBuilder, type IrGraph } from '../ir/graph.js';
import type { WeightSource } from '../safetensors.js';
import { labelFields, numLabels, parseHfConfig, positiveInt } from './hf-config.js';
import {
  ACTIVATIONS,
  dense,
  embeddings,
  type EncoderLayerModules,
  type EncoderConfig,
  encoderStack,
  logitsOutput,
  readLinear,
  tokenInput,
} from './transformer.blocks.js';

/** Added to the attention scores of padded keys (TF DistilBERT's `scores − 1e30·(1 − mask)`). */
export const DISTILBERT_MASK_VALUE = -1e30;
/** Every DistilBERT LayerNorm's epsilon (`nn.LayerNorm(dim, eps=1e-12)`), whatever config.json says. */
export const DISTILBERT_LAYER_NORM_EPS = 1e-12;

const distilBertConfigSchema = z
  .object({
    model_type: z.literal('distilbert'),
    vocab_size: positiveInt,
    dim: positiveInt,
    n_layers: positiveInt,
    n_heads: positiveInt,
    hidden_dim: positiveInt,
    activation: z
      .enum(ACTIVATIONS, { message: 'only "gelu" (exact erf GELU) and "relu" are supported' })
      .default('gelu'),
    max_position_embeddings: positiveInt,
    sinusoidal_pos_embds: z.boolean().default(false),
    ...labelFields,
  })
  .loose()
  .refine((config) => config.dim % config.n_heads === 0, { message: 'dim must be a multiple of n_heads' });

/** DistilBERT's config in the encoder's names (`dim` → hiddenSize, `hidden_dim` → intermediateSize, ...). */
export type DistilBertConfig = EncoderConfig;

/** Validates a Hugging Face `DistilBertConfig` JSON; `source` (the file path) prefixes every error. */
export function parseDistilBertConfig(json: unknown, source: string): DistilBertConfig {
  const c = parseHfConfig(distilBertConfigSchema, json, source, 'DistilBERT');
  return {
    vocabSize: c.vocab_size,
    hiddenSize: c.dim,
    numLayers: c.n_layers,
    numHeads: c.n_heads,
    intermediateSize: c.hidden_dim,
    activation: c.activation,
    layerNormEps: DISTILBERT_LAYER_NORM_EPS,
    maxPositions: c.max_position_embeddings,
    numLabels: numLabels(c),
  };
}

/** Checkpoint entries that are not parameters of the network (older transformers saved the position_ids buffer). */
export const DISTILBERT_IGNORED_WEIGHTS: readonly RegExp[] = [/^distilbert\.embeddings\.position_ids$/];

/** The modules of `distilbert.transformer.layer.<i>`. */
export function distilBertLayerModules(i: number): EncoderLayerModules {
  const p = `distilbert.transformer.layer.${i}`;
  return {
    query: `${p}.attention.q_lin`,
    key: `${p}.attention.k_lin`,
    value: `${p}.attention.v_lin`,
    attentionOutput: `${p}.attention.out_lin`,
    attentionNorm: `${p}.sa_layer_norm`,
    intermediate: `${p}.ffn.lin1`,
    output: `${p}.ffn.lin2`,
    outputNorm: `${p}.output_layer_norm`,
  };
}

/**
 * The graph, with the interface of a Hugging Face Optimum export of DistilBERT: inputs `input_ids`,
 * `attention_mask` (int64 `[batch_size, sequence_length]`; no `token_type_ids`), output `logits` (float32
 * `[batch_size, numLabels]`).
 */
export function buildDistilBertForSequenceClassification(config: DistilBertConfig, weights: WeightSource): IrGraph {
  const c = config;
  const H = c.hiddenSize;
  const b = new GraphBuilder();
  const inputIds = tokenInput(b, 'input_ids');
  const attentionMask = tokenInput(b, 'attention_mask');

  const first = b.withScope('distilbert', () => {
    const embedded = embeddings(b, weights, inputIds, 'distilbert.embeddings', c);
    const stack = { scope: 'transformer', maskValue: DISTILBERT_MASK_VALUE, modules: distilBertLayerModules };
    return encoderStack(b, { embedded, attentionMask, weights }, stack, c);
  });

  const preClassified = b.withScope('pre_classifier', () =>
    b.relu(dense(b, first, readLinear(weights, 'pre_classifier', H, H), 'dense'), 'relu'),
  );
  logitsOutput(b, dense(b, preClassified, readLinear(weights, 'classifier', H, c.numLabels), 'classifier'));
  return b.build();
}
