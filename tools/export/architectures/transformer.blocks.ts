/**
 * Building blocks shared by transformer encoders (BERT, DistilBERT), written against the IR only: token inputs,
 * word + position embeddings, LayerNorm, activations, multi-head self-attention and the whole post-LN encoder
 * layer, so each architecture only maps its checkpoint's parameter names and its head onto them. Weights arrive in
 * PyTorch `nn.Linear` layout (`weight` [out, in], `y = x·Wᵀ + b`) and are transposed here, once, at build time, so
 * every graph multiplies by an `[in, out]` kernel.
 */
import { type GraphBuilder, GraphBuildError, type Value } from '../ir/graph.js';
import type { WeightSource } from '../safetensors.js';

/** A linear layer in graph layout: `kernel` is `[inFeatures, outFeatures]` row-major. */
export interface Linear {
  readonly kernel: Float32Array;
  readonly bias: Float32Array;
  readonly inFeatures: number;
  readonly outFeatures: number;
}

export interface LayerNormWeights {
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
}

/** Reads a PyTorch `nn.Linear` (`<prefix>.weight` [out, in], `<prefix>.bias` [out]) and transposes it. */
export function readLinear(weights: WeightSource, prefix: string, inFeatures: number, outFeatures: number): Linear {
  const weight = weights.float32(`${prefix}.weight`, [outFeatures, inFeatures]);
  const bias = weights.float32(`${prefix}.bias`, [outFeatures]);
  const kernel = new Float32Array(inFeatures * outFeatures);
  for (let o = 0; o < outFeatures; o++) {
    for (let i = 0; i < inFeatures; i++) {
      kernel[i * outFeatures + o] = weight[o * inFeatures + i] as number;
    }
  }
  return { kernel, bias, inFeatures, outFeatures };
}

/** Reads a LayerNorm (`weight`/`bias`, or the legacy `gamma`/`beta` names that transformers still accepts). */
export function readLayerNorm(weights: WeightSource, prefix: string, size: number): LayerNormWeights {
  const pick = (name: string, legacy: string) =>
    !weights.has(`${prefix}.${name}`) && weights.has(`${prefix}.${legacy}`) ? legacy : name;
  return {
    gamma: weights.float32(`${prefix}.${pick('weight', 'gamma')}`, [size]),
    beta: weights.float32(`${prefix}.${pick('bias', 'beta')}`, [size]),
  };
}

/** Output columns `[start, end)` of a linear layer (one attention head's slice of Q, K or V). */
export function linearColumns(linear: Linear, start: number, end: number): Linear {
  if (start < 0 || end > linear.outFeatures || start >= end) {
    throw new GraphBuildError(`column range [${start}, ${end}) outside a ${linear.outFeatures}-wide layer`);
  }
  const width = end - start;
  const kernel = new Float32Array(linear.inFeatures * width);
  for (let i = 0; i < linear.inFeatures; i++) {
    kernel.set(linear.kernel.subarray(i * linear.outFeatures + start, i * linear.outFeatures + end), i * width);
  }
  return { kernel, bias: linear.bias.slice(start, end), inFeatures: linear.inFeatures, outFeatures: width };
}

/** `x·W + b` for `x` of shape `[..., in]` (MatMul on rank 2, batched MatMul with a broadcast kernel on rank 3). */
export function dense(b: GraphBuilder, x: Value, linear: Linear, scope: string): Value {
  return b.withScope(scope, () => {
    const kernel = b.constant('kernel', [linear.inFeatures, linear.outFeatures], linear.kernel);
    const bias = b.constant('bias', [linear.outFeatures], linear.bias);
    return b.add(b.matmul(x, kernel), bias, 'add_bias');
  });
}

/**
 * LayerNorm over the last axis with biased variance: `(x − mean) / √(var + eps)·γ + β`, written as the PyTorch exporter
 * writes it (Sub, Pow 2, ReduceMean, Add, Sqrt, Div; ONNX Runtime merges the two identical Subs) so that ONNX
 * Runtime fuses it into one LayerNormalization kernel (not with the square written as d·d). Unfused LayerNorms and
 * GELUs made the bundled model 10–25% slower than the PyTorch exporter's file.
 */
export function layerNorm(b: GraphBuilder, x: Value, weights: LayerNormWeights, eps: number, scope: string): Value {
  return b.withScope(scope, () => {
    const size = weights.gamma.length;
    const mean = b.reduceMean(x, [-1], true, 'mean');
    const variance = b.reduceMean(b.squaredDifference(x, mean), [-1], true, 'variance');
    const std = b.sqrt(b.add(variance, b.scalar('epsilon', eps), 'add_epsilon'));
    const normalized = b.div(b.sub(x, mean, 'centered'), std, 'normalized');
    const scaled = b.mul(normalized, b.constant('gamma', [size], weights.gamma), 'scaled');
    return b.add(scaled, b.constant('beta', [size], weights.beta), 'shifted');
  });
}

/**
 * Exact (erf) GELU: `x·(1 + erf(x/√2))·0.5`, as `torch.nn.functional.gelu` computes it by default, with the
 * division by √2 that ONNX Runtime's Gelu fusion matches (a multiplication by 1/√2 is left unfused); it then fuses the
 * preceding bias in too (BiasGelu).
 */
export function gelu(b: GraphBuilder, x: Value, scope = 'gelu'): Value {
  return b.withScope(scope, () => {
    const erf = b.erf(b.div(x, b.scalar('sqrt2', Math.SQRT2), 'scaled'));
    const onePlusErf = b.add(erf, b.scalar('one', 1), 'one_plus_erf');
    return b.mul(b.mul(x, onePlusErf, 'x_times'), b.scalar('half', 0.5), 'gelu');
  });
}

/** Feed-forward activations that export exactly (`hidden_act` / `activation` in config.json). */
export const ACTIVATIONS = ['gelu', 'relu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** The activation named by config.json: exact (erf) GELU, or ReLU. */
export function activation(b: GraphBuilder, x: Value, kind: Activation): Value {
  return kind === 'gelu' ? gelu(b, x) : b.relu(x, 'relu');
}

/** Names of the run-time dimensions of the token inputs, as Hugging Face Optimum's ONNX export names them. */
export const TOKEN_INPUT_DIMS = ['batch_size', 'sequence_length'] as const;

/** A token input (`input_ids`, `attention_mask`, ...): int64 `[batch_size, sequence_length]`, as HF exports declare. */
export function tokenInput(b: GraphBuilder, name: string): Value {
  return b.input(name, 'int64', [-1, -1], TOKEN_INPUT_DIMS);
}

/** Names the `[batch, labels]` logits the graph output `logits`, with its batch dimension named as the inputs'. */
export function logitsOutput(b: GraphBuilder, logits: Value): Value {
  return b.output('logits', logits, [TOKEN_INPUT_DIMS[0], null]);
}

/**
 * The `embeddings` scope: `LayerNorm(W_word[input_ids] + W_pos[0..S-1] (+ extra))`, positions from 0 whatever the
 * padding, tables read from `<prefix>.word_embeddings.weight` and `<prefix>.position_embeddings.weight`, the
 * LayerNorm from `<prefix>.LayerNorm`. `extra` (BERT's token types) is looked up after the positions and added
 * last, under its own name, as the reference sums them.
 */
export function embeddings(
  b: GraphBuilder,
  weights: WeightSource,
  inputIds: Value,
  prefix: string,
  c: EncoderConfig,
  extra?: { readonly name: string; readonly lookup: () => Value },
): Value {
  return b.withScope('embeddings', () => {
    const H = c.hiddenSize;
    const table = (name: string, rows: number) =>
      b.constant(name, [rows, H], weights.float32(`${prefix}.${name}.weight`, [rows, H]));
    const words = b.gather(table('word_embeddings', c.vocabSize), inputIds, 0, 'word_lookup');
    const positions = b.sliceRowsToLengthOf(
      table('position_embeddings', c.maxPositions),
      inputIds,
      1,
      'position_lookup',
    );
    const extraTerm = extra?.lookup();
    const sum = b.add(words, positions, 'add_positions');
    const total = extra && extraTerm ? b.add(sum, extraTerm, extra.name) : sum;
    return layerNorm(b, total, readLayerNorm(weights, `${prefix}.LayerNorm`, H), c.layerNormEps, 'LayerNorm');
  });
}

/**
 * The additive attention mask `(1 − mask)·maskValue` with a key axis for broadcasting: `[B, S]` → `[B, 1, S]`,
 * added to every `[B, S_query, S_key]` score matrix, so padded keys get `maskValue` (BERT −10000, DistilBERT −1e30).
 */
export function additiveAttentionMask(b: GraphBuilder, attentionMask: Value, maskValue: number, scope: string): Value {
  return b.withScope(scope, () => {
    const mask = b.cast(attentionMask, 'float32');
    const inverted = b.sub(b.scalar('one', 1), mask, 'inverted');
    const additive = b.mul(inverted, b.scalar('mask_value', maskValue), 'additive');
    return b.expandDims(additive, 1, 'for_keys');
  });
}

export interface AttentionWeights {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly numHeads: number;
}

/**
 * Multi-head scaled dot-product self-attention without 4-D reshapes: for each head h, the Q/K/V kernels are sliced
 * to that head's columns at build time, so `Q_h = x·Wq_h + bq_h` is `[B, S, d]` directly;
 * `P_h = softmax(Q_h·K_hᵀ·(1/√d) + mask)`; `ctx_h = P_h·V_h`; heads are concatenated on the last axis → `[B, S, H]`.
 * Head h uses features `h·d … h·d+d−1`, as the reference implementation's reshape to `[B, S, nH, d]` does.
 * `queries` (default `x`) are the rows that attend, `[B, Q, H]`: keys and values always come from every row of `x`,
 * and the result has one row per query.
 */
export function selfAttention(
  b: GraphBuilder,
  x: Value,
  additiveMask: Value,
  weights: AttentionWeights,
  scope: string,
  queries: Value = x,
): Value {
  const hidden = weights.query.outFeatures;
  const { numHeads } = weights;
  if (hidden % numHeads !== 0) {
    throw new GraphBuildError(`${scope}: hidden size ${hidden} is not divisible by ${numHeads} heads`);
  }
  const headSize = hidden / numHeads;
  return b.withScope(scope, () => {
    const heads: Value[] = [];
    for (let h = 0; h < numHeads; h++) {
      const columns = (linear: Linear) => linearColumns(linear, h * headSize, (h + 1) * headSize);
      heads.push(
        b.withScope(`head_${h}`, () => {
          const q = dense(b, queries, columns(weights.query), 'query');
          const k = dense(b, x, columns(weights.key), 'key');
          const v = dense(b, x, columns(weights.value), 'value');
          const scores = b.withScope('scores', () => {
            const raw = b.batchMatmul(q, k, { adjointB: true, name: 'MatMul' });
            const scaled = b.mul(raw, b.scalar('scale', 1 / Math.sqrt(headSize)), 'scaled');
            return b.add(scaled, additiveMask, 'masked');
          });
          const probs = b.softmax(scores, 'probs');
          return b.batchMatmul(probs, v, { name: 'context' });
        }),
      );
    }
    const [first] = heads;
    if (first === undefined) {
      throw new GraphBuildError(`${scope}: at least one attention head is needed`);
    }
    // ConcatV2 needs N ≥ 2: a single head is already the full context.
    return heads.length === 1 ? first : b.concat(heads, -1, 'heads');
  });
}

/** Checkpoint prefixes of the modules of one post-LN encoder layer (each an `nn.Linear` or a LayerNorm). */
export interface EncoderLayerModules {
  readonly query: string;
  readonly key: string;
  readonly value: string;
  readonly attentionOutput: string;
  readonly attentionNorm: string;
  readonly intermediate: string;
  readonly output: string;
  readonly outputNorm: string;
}

export interface EncoderLayerWeights {
  readonly attention: AttentionWeights;
  readonly attentionOutput: Linear;
  readonly attentionNorm: LayerNormWeights;
  readonly intermediate: Linear;
  readonly output: Linear;
  readonly outputNorm: LayerNormWeights;
}

/** Sizes and choices shared by every layer of one encoder. */
export interface EncoderOptions {
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numHeads: number;
  readonly activation: Activation;
  readonly layerNormEps: number;
}

/** A BERT-family sequence classifier's config.json, in the architecture-neutral names the blocks read. */
export interface EncoderConfig extends EncoderOptions {
  readonly vocabSize: number;
  readonly numLayers: number;
  readonly maxPositions: number;
  readonly numLabels: number;
}

/** Reads one encoder layer's weights, each checked against the sizes in `options`. */
export function readEncoderLayer(
  weights: WeightSource,
  modules: EncoderLayerModules,
  options: EncoderOptions,
): EncoderLayerWeights {
  const { hiddenSize: H, intermediateSize: I } = options;
  return {
    attention: {
      query: readLinear(weights, modules.query, H, H),
      key: readLinear(weights, modules.key, H, H),
      value: readLinear(weights, modules.value, H, H),
      numHeads: options.numHeads,
    },
    attentionOutput: readLinear(weights, modules.attentionOutput, H, H),
    attentionNorm: readLayerNorm(weights, modules.attentionNorm, H),
    intermediate: readLinear(weights, modules.intermediate, H, I),
    output: readLinear(weights, modules.output, I, H),
    outputNorm: readLayerNorm(weights, modules.outputNorm, H),
  };
}

/** `LayerNorm(x·W + b + residual)` under `scope` (nodes `dense/...`, `residual`, `LayerNorm/...`). */
function projectAddNorm(
  b: GraphBuilder,
  x: Value,
  residual: Value,
  parts: { readonly linear: Linear; readonly norm: LayerNormWeights; readonly eps: number },
  scope: string,
): Value {
  return b.withScope(scope, () => {
    const sum = b.add(dense(b, x, parts.linear, 'dense'), residual, 'residual');
    return layerNorm(b, sum, parts.norm, parts.eps, 'LayerNorm');
  });
}

/**
 * One post-LN encoder layer, as BERT and DistilBERT both compute it:
 *
 *   a = LN(h + SelfAttention(h)·Wo + bo);   h' = LN(a + act(a·W1 + b1)·W2 + b2)
 *
 * Node names follow BERT's module layout (`attention/self`, `attention/output`, `intermediate`, `output`) whichever
 * checkpoint the weights come from. With `rows` (default `h`), only those rows of `h` are computed (`[B, Q, H]`,
 * e.g. the first token's): they attend over every row of `h`, and everything after the attention runs on them alone.
 */
export function encoderLayer(
  b: GraphBuilder,
  h: Value,
  additiveMask: Value,
  weights: EncoderLayerWeights,
  options: EncoderOptions,
  scope: string,
  rows: Value = h,
): Value {
  const eps = options.layerNormEps;
  return b.withScope(scope, () => {
    const attended = b.withScope('attention', () => {
      const context = selfAttention(b, h, additiveMask, weights.attention, 'self', rows);
      return projectAddNorm(
        b,
        context,
        rows,
        { linear: weights.attentionOutput, norm: weights.attentionNorm, eps },
        'output',
      );
    });
    const intermediate = b.withScope('intermediate', () =>
      activation(b, dense(b, attended, weights.intermediate, 'dense'), options.activation),
    );
    return projectAddNorm(
      b,
      intermediate,
      attended,
      { linear: weights.output, norm: weights.outputNorm, eps },
      'output',
    );
  });
}

/**
 * The encoder stack under `scope`: the additive mask (`attention_mask/...`) built once from the `[B, S]` 0/1
 * `attentionMask` and `maskValue`, then `layer_0` … `layer_{n-1}`, the modules of layer i named by `modules(i)`.
 *
 * Returns the last layer's hidden state of the first token only, `[B, H]`: all a sequence-classification head reads
 * (BERT's pooler, DistilBERT's pre-classifier). So the last layer computes that one row: its keys and values still
 * come from every token, but its query, attention output, feed-forward block and LayerNorms run on one row instead
 * of S; on the bundled 2-layer model about 40% fewer multiply-adds per sentence, with the same logits (the first
 * row's arithmetic is unchanged: test/onnx-export-parity.e2e-spec.ts checks them against PyTorch's).
 */
export function encoderStack(
  b: GraphBuilder,
  inputs: { readonly embedded: Value; readonly attentionMask: Value; readonly weights: WeightSource },
  stack: {
    readonly scope: string;
    readonly maskValue: number;
    readonly modules: (layer: number) => EncoderLayerModules;
  },
  c: EncoderConfig,
): Value {
  return b.withScope(stack.scope, () => {
    const mask = additiveAttentionMask(b, inputs.attentionMask, stack.maskValue, 'attention_mask');
    let h = inputs.embedded;
    for (let i = 0; i < c.numLayers; i++) {
      const last = i === c.numLayers - 1;
      const scope = `layer_${i}`;
      const rows = last ? b.withScope(scope, () => b.expandDims(b.firstToken(h), 1, 'first_token_row')) : h;
      h = encoderLayer(b, h, mask, readEncoderLayer(inputs.weights, stack.modules(i), c), c, scope, rows);
    }
    return b.firstToken(h);
  });
}
