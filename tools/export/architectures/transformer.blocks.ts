/**
 * Building blocks shared by transformer encoders (BERT now, DistilBERT and others later), written against the IR
 * only. Weights arrive in PyTorch `nn.Linear` layout (`weight` [out, in], `y = x·Wᵀ + b`) and are transposed here,
 * once, at build time, so every graph multiplies by an `[in, out]` kernel.
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

/** LayerNorm over the last axis with biased variance: `(x − mean)·rsqrt(var + eps)·γ + β`. */
export function layerNorm(b: GraphBuilder, x: Value, weights: LayerNormWeights, eps: number, scope: string): Value {
  return b.withScope(scope, () => {
    const size = weights.gamma.length;
    const mean = b.reduceMean(x, [-1], true, 'mean');
    const variance = b.reduceMean(b.squaredDifference(x, mean), [-1], true, 'variance');
    const inverseStd = b.rsqrt(b.add(variance, b.scalar('epsilon', eps), 'add_epsilon'));
    const normalized = b.mul(b.sub(x, mean, 'centered'), inverseStd, 'normalized');
    const scaled = b.mul(normalized, b.constant('gamma', [size], weights.gamma), 'scaled');
    return b.add(scaled, b.constant('beta', [size], weights.beta), 'shifted');
  });
}

/** Exact (erf) GELU: `0.5·x·(1 + erf(x/√2))`, as `torch.nn.functional.gelu` computes it by default. */
export function gelu(b: GraphBuilder, x: Value, scope = 'gelu'): Value {
  return b.withScope(scope, () => {
    const erf = b.erf(b.mul(x, b.scalar('one_over_sqrt2', Math.SQRT1_2), 'scaled'));
    const onePlusErf = b.add(erf, b.scalar('one', 1), 'one_plus_erf');
    return b.mul(b.mul(x, b.scalar('half', 0.5), 'half_x'), onePlusErf, 'gelu');
  });
}

/**
 * The additive attention mask `(1 − mask)·maskValue` with a key axis for broadcasting: `[B, S]` → `[B, 1, S]`,
 * added to every `[B, S_query, S_key]` score matrix, so padded keys get `maskValue` (−10000 for BERT).
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
 */
export function selfAttention(
  b: GraphBuilder,
  x: Value,
  additiveMask: Value,
  weights: AttentionWeights,
  scope: string,
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
          const q = dense(b, x, columns(weights.query), 'query');
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
