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
import { GraphBuilder, type IrGraph, type Value } from '../ir/graph.js';
import type { WeightSource } from '../safetensors.js';
import {
  additiveAttentionMask,
  dense,
  gelu,
  layerNorm,
  readLayerNorm,
  readLinear,
  selfAttention,
} from './transformer.blocks.js';

/** Added to the attention scores of padded keys (tools/train/bert.py `MASK_VALUE`). */
export const BERT_MASK_VALUE = -10000;

const positiveInt = z.number().int().positive();

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
    id2label: z.record(z.string(), z.string()).optional(),
    num_labels: positiveInt.optional(),
  })
  .loose()
  .refine((config) => config.hidden_size % config.num_attention_heads === 0, {
    message: 'hidden_size must be a multiple of num_attention_heads',
  });

export interface BertConfig {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly intermediateSize: number;
  readonly maxPositions: number;
  readonly typeVocabSize: number;
  readonly layerNormEps: number;
  readonly numLabels: number;
}

/** Validates a Hugging Face `BertConfig` JSON; `source` (the file path) prefixes every error. */
export function parseBertConfig(json: unknown, source: string): BertConfig {
  const parsed = bertConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new Error(`${source}: not a supported BERT config: ${issues.join('; ')}`);
  }
  const c = parsed.data;
  return {
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    intermediateSize: c.intermediate_size,
    maxPositions: c.max_position_embeddings,
    typeVocabSize: c.type_vocab_size,
    layerNormEps: c.layer_norm_eps,
    // transformers: num_labels = len(id2label), default 2; the classifier weight shape is checked against it.
    numLabels: c.id2label ? Object.keys(c.id2label).length : (c.num_labels ?? 2),
  };
}

/** Checkpoint entries that are not parameters of the network (old transformers saved these buffers). */
export const BERT_IGNORED_WEIGHTS: readonly RegExp[] = [/^bert\.embeddings\.(position_ids|token_type_ids)$/];

function encoderLayer(b: GraphBuilder, h: Value, mask: Value, c: BertConfig, w: WeightSource, i: number): Value {
  const p = `bert.encoder.layer.${i}`;
  const H = c.hiddenSize;
  return b.withScope(`layer_${i}`, () => {
    const attended = b.withScope('attention', () => {
      const context = selfAttention(
        b,
        h,
        mask,
        {
          query: readLinear(w, `${p}.attention.self.query`, H, H),
          key: readLinear(w, `${p}.attention.self.key`, H, H),
          value: readLinear(w, `${p}.attention.self.value`, H, H),
          numHeads: c.numHeads,
        },
        'self',
      );
      return b.withScope('output', () => {
        const projected = dense(b, context, readLinear(w, `${p}.attention.output.dense`, H, H), 'dense');
        const residual = b.add(projected, h, 'residual');
        return layerNorm(
          b,
          residual,
          readLayerNorm(w, `${p}.attention.output.LayerNorm`, H),
          c.layerNormEps,
          'LayerNorm',
        );
      });
    });
    const intermediate = b.withScope('intermediate', () =>
      gelu(b, dense(b, attended, readLinear(w, `${p}.intermediate.dense`, H, c.intermediateSize), 'dense')),
    );
    return b.withScope('output', () => {
      const projected = dense(b, intermediate, readLinear(w, `${p}.output.dense`, c.intermediateSize, H), 'dense');
      const residual = b.add(projected, attended, 'residual');
      return layerNorm(b, residual, readLayerNorm(w, `${p}.output.LayerNorm`, H), c.layerNormEps, 'LayerNorm');
    });
  });
}

/** Names of the run-time dimensions of the token inputs, as Hugging Face Optimum's ONNX export names them. */
export const TOKEN_INPUT_DIMS = ['batch_size', 'sequence_length'] as const;

/**
 * The graph: inputs `input_ids`, `attention_mask`, `token_type_ids` (int64 `[batch_size, sequence_length]`, as
 * Hugging Face exports declare them), output `logits` (float32 `[batch_size, numLabels]`).
 */
export function buildBertForSequenceClassification(config: BertConfig, weights: WeightSource): IrGraph {
  const c = config;
  const H = c.hiddenSize;
  const b = new GraphBuilder();
  const inputIds = b.input('input_ids', 'int64', [-1, -1], TOKEN_INPUT_DIMS);
  const attentionMask = b.input('attention_mask', 'int64', [-1, -1], TOKEN_INPUT_DIMS);
  const tokenTypeIds = b.input('token_type_ids', 'int64', [-1, -1], TOKEN_INPUT_DIMS);

  const sequence = b.withScope('bert', () => {
    const embedded = b.withScope('embeddings', () => {
      const e = 'bert.embeddings';
      const words = b.gather(
        b.constant(
          'word_embeddings',
          [c.vocabSize, H],
          weights.float32(`${e}.word_embeddings.weight`, [c.vocabSize, H]),
        ),
        inputIds,
        0,
        'word_lookup',
      );
      const positionTable = b.constant(
        'position_embeddings',
        [c.maxPositions, H],
        weights.float32(`${e}.position_embeddings.weight`, [c.maxPositions, H]),
      );
      const positions = b.sliceRowsToLengthOf(positionTable, inputIds, 1, 'position_lookup');
      const types = b.gather(
        b.constant(
          'token_type_embeddings',
          [c.typeVocabSize, H],
          weights.float32(`${e}.token_type_embeddings.weight`, [c.typeVocabSize, H]),
        ),
        tokenTypeIds,
        0,
        'token_type_lookup',
      );
      // Same summation order as the reference: (words + positions) + token types.
      const sum = b.add(b.add(words, positions, 'add_positions'), types, 'add_token_types');
      return layerNorm(b, sum, readLayerNorm(weights, `${e}.LayerNorm`, H), c.layerNormEps, 'LayerNorm');
    });
    return b.withScope('encoder', () => {
      const mask = additiveAttentionMask(b, attentionMask, BERT_MASK_VALUE, 'attention_mask');
      let h = embedded;
      for (let i = 0; i < c.numLayers; i++) {
        h = encoderLayer(b, h, mask, c, weights, i);
      }
      return h;
    });
  });

  const pooled = b.withScope('bert', () =>
    b.withScope('pooler', () =>
      b.tanh(dense(b, b.firstToken(sequence), readLinear(weights, 'bert.pooler.dense', H, H), 'dense')),
    ),
  );
  const logits = dense(b, pooled, readLinear(weights, 'classifier', H, c.numLabels), 'classifier');
  b.output('logits', logits, [TOKEN_INPUT_DIMS[0], null]);
  return b.build();
}
