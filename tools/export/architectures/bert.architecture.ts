/**
 * `BertForSequenceClassification` (Hugging Face names and semantics) described once in the IR:
 *
 *   E = LayerNorm(W_word[input_ids] + W_pos[0..S-1] + W_type[token_type_ids])
 *   mask = (1 − attention_mask)·(−10000), broadcast over query rows
 *   L × post-LN layer: a = LN(h + Attention(h)); h' = LN(a + W2·gelu(W1·a))
 *   logits = W_c · tanh(W_p · h_L[:, 0])
 *
 * This is the forward pass of tools/train/bert.py (the training network), which uses the additive −10000 mask
 * (TF BERT's constant; PyTorch BERT uses finfo.min — both give padded keys zero weight in float32).
 */
import { z } from 'zod';
import { GraphBuilder, type IrGraph } from '../ir/graph.js';
import type { WeightSource } from '../safetensors.js';
import { labelFields, numLabels, parseHfConfig, positiveInt } from './hf-config.js';
import {
  dense,
  embeddings,
  type EncoderLayerModules,
  type EncoderConfig,
  encoderStack,
  logitsOutput,
  readLinear,
  tokenInput,
} from './transformer.blocks.js';

/** Added to the attention scores of padded keys (tools/train/bert.py `MASK_VALUE`). */
export const BERT_MASK_VALUE = -10000;

const bertConfigSchema = z
  .object({
    model_type: z.literal('bert'),
    vocab_size: positiveInt,
    hidden_size: positiveInt,
    num_hidden_layers: positiveInt,
    num_attention_heads: positiveInt,
    intermediate_size: positiveInt,
    hidden_act: z.literal('gelu', { message: 'only "gelu" (exact erf GELU) is supported' }).default('gelu'),
    max_position_embeddings: positiveInt,
    type_vocab_size: positiveInt,
    layer_norm_eps: z.number().positive().default(1e-12),
    position_embedding_type: z
      .literal('absolute', { message: 'only "absolute" position embeddings are supported' })
      .default('absolute'),
    ...labelFields,
  })
  .loose()
  .refine((config) => config.hidden_size % config.num_attention_heads === 0, {
    message: 'hidden_size must be a multiple of num_attention_heads',
  });

export interface BertConfig extends EncoderConfig {
  readonly typeVocabSize: number;
}

/** Validates a Hugging Face `BertConfig` JSON; `source` (the file path) prefixes every error. */
export function parseBertConfig(json: unknown, source: string): BertConfig {
  const c = parseHfConfig(bertConfigSchema, json, source, 'BERT');
  return {
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    intermediateSize: c.intermediate_size,
    activation: c.hidden_act,
    maxPositions: c.max_position_embeddings,
    typeVocabSize: c.type_vocab_size,
    layerNormEps: c.layer_norm_eps,
    numLabels: numLabels(c),
  };
}

/** Checkpoint entries that are not parameters of the network (old transformers saved these buffers). */
export const BERT_IGNORED_WEIGHTS: readonly RegExp[] = [/^bert\.embeddings\.(position_ids|token_type_ids)$/];

/** The modules of `bert.encoder.layer.<i>`. */
export function bertLayerModules(i: number): EncoderLayerModules {
  const p = `bert.encoder.layer.${i}`;
  return {
    query: `${p}.attention.self.query`,
    key: `${p}.attention.self.key`,
    value: `${p}.attention.self.value`,
    attentionOutput: `${p}.attention.output.dense`,
    attentionNorm: `${p}.attention.output.LayerNorm`,
    intermediate: `${p}.intermediate.dense`,
    output: `${p}.output.dense`,
    outputNorm: `${p}.output.LayerNorm`,
  };
}

/**
 * The graph: inputs `input_ids`, `attention_mask`, `token_type_ids` (int64 `[batch_size, sequence_length]`, as
 * Hugging Face exports declare them), output `logits` (float32 `[batch_size, numLabels]`).
 */
export function buildBertForSequenceClassification(config: BertConfig, weights: WeightSource): IrGraph {
  const c = config;
  const H = c.hiddenSize;
  const b = new GraphBuilder();
  const inputIds = tokenInput(b, 'input_ids');
  const attentionMask = tokenInput(b, 'attention_mask');
  const tokenTypeIds = tokenInput(b, 'token_type_ids');

  const first = b.withScope('bert', () => {
    const embedded = embeddings(b, weights, inputIds, 'bert.embeddings', c, {
      name: 'add_token_types',
      lookup: () =>
        b.gather(
          b.constant(
            'token_type_embeddings',
            [c.typeVocabSize, H],
            weights.float32('bert.embeddings.token_type_embeddings.weight', [c.typeVocabSize, H]),
          ),
          tokenTypeIds,
          0,
          'token_type_lookup',
        ),
    });
    const stack = { scope: 'encoder', maskValue: BERT_MASK_VALUE, modules: bertLayerModules };
    return encoderStack(b, { embedded, attentionMask, weights }, stack, c);
  });

  const pooled = b.withScope('bert', () =>
    b.withScope('pooler', () => b.tanh(dense(b, first, readLinear(weights, 'bert.pooler.dense', H, H), 'dense'))),
  );
  logitsOutput(b, dense(b, pooled, readLinear(weights, 'classifier', H, c.numLabels), 'classifier'));
  return b.build();
}
