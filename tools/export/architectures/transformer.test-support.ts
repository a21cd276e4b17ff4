/**
 * Test support shared by the tiny-checkpoint helpers of each architecture (tiny-bert, tiny-distilbert): seeded
 * random weights in PyTorch layout, and the pieces of a plain float64 forward pass (Linear, LayerNorm, exact GELU,
 * a post-LN encoder layer with multi-head attention) that the exported graphs are checked against. Written from
 * the Hugging Face modeling code's formulas, independently of transformer.blocks.ts; only the checkpoints' module
 * names come from the architectures (`EncoderLayerModules`).
 */
import type { EncoderLayerModules as LayerModules } from './transformer.blocks.js';

export type Weights = Record<string, { shape: number[]; data: Float32Array }>;

/** Rows of a float64 activation matrix, one per token. */
export type Matrix = number[][];

/** Deterministic uniform(-scale, scale) values (mulberry32). */
export function random(seed: number): (count: number, scale?: number) => Float32Array {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (count, scale = 0.5) => Float32Array.from({ length: count }, () => (2 * next() - 1) * scale);
}

/** Sizes of a tiny checkpoint, whatever the architecture. */
export interface TinyEncoderConfig {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  positions: number;
  labels: number;
}

/** Fills a checkpoint with seeded random tensors in PyTorch layout (`nn.Linear.weight` is [out, in]). */
export class CheckpointBuilder {
  readonly weights: Weights = {};
  private readonly values: (count: number, scale?: number) => Float32Array;

  constructor(seed: number) {
    this.values = random(seed);
  }

  add(name: string, shape: number[], scale?: number): this {
    const count = shape.reduce((a, b) => a * b, 1);
    this.weights[name] = { shape, data: this.values(count, scale) };
    return this;
  }

  linear(prefix: string, inFeatures: number, outFeatures: number): this {
    return this.add(`${prefix}.weight`, [outFeatures, inFeatures]).add(`${prefix}.bias`, [outFeatures], 0.1);
  }

  /** A LayerNorm with γ near 1. */
  norm(prefix: string, size: number): this {
    this.weights[`${prefix}.weight`] = { shape: [size], data: this.values(size, 0.2).map((v) => 1 + v) };
    return this.add(`${prefix}.bias`, [size], 0.1);
  }

  /** The embedding tables `<prefix>.{word,position}_embeddings.weight` and `<prefix>.LayerNorm`. */
  embeddings(prefix: string, c: TinyEncoderConfig, extraTables: Readonly<Record<string, number>> = {}): this {
    this.add(`${prefix}.word_embeddings.weight`, [c.vocab, c.hidden], 1);
    this.add(`${prefix}.position_embeddings.weight`, [c.positions, c.hidden], 1);
    for (const [table, rows] of Object.entries(extraTables)) {
      this.add(`${prefix}.${table}.weight`, [rows, c.hidden], 1);
    }
    return this.norm(`${prefix}.LayerNorm`, c.hidden);
  }

  /** `layers` encoder layers, the modules of layer i named by `modules(i)`. */
  encoder(modules: (layer: number) => LayerModules, c: TinyEncoderConfig): this {
    for (let i = 0; i < c.layers; i++) {
      this.encoderLayer(modules(i), c.hidden, c.intermediate);
    }
    return this;
  }

  encoderLayer(m: LayerModules, hidden: number, intermediate: number): this {
    for (const prefix of [m.query, m.key, m.value, m.attentionOutput]) {
      this.linear(prefix, hidden, hidden);
    }
    return this.norm(m.attentionNorm, hidden)
      .linear(m.intermediate, hidden, intermediate)
      .linear(m.output, intermediate, hidden)
      .norm(m.outputNorm, hidden);
  }
}

/** The sizes the exporter specs use: small enough to run in milliseconds, with padding room and 3 labels. */
export const TINY_SIZES = { vocab: 20, hidden: 12, layers: 2, intermediate: 16, positions: 10, labels: 3 } as const;

export function erf(x: number): number {
  // Abramowitz & Stegun 7.1.26 is too coarse for a reference; use the series / continued fraction of erfc.
  const t = Math.abs(x);
  let result: number;
  if (t < 2.5) {
    let term = t;
    let sum = t;
    for (let n = 1; n < 60; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
    }
    result = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let fraction = 0;
    for (let n = 60; n >= 1; n--) {
      fraction = n / 2 / (t + fraction);
    }
    result = 1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + fraction);
  }
  return x < 0 ? -result : result;
}

/** The feed-forward activations: exact (erf) GELU and ReLU. */
export const REFERENCE_ACTIVATIONS = {
  gelu: (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  relu: (x: number) => Math.max(0, x),
} as const;

export type ReferenceActivation = keyof typeof REFERENCE_ACTIVATIONS;

function tensor(w: Weights, name: string): { shape: number[]; data: Float32Array } {
  const found = w[name];
  if (found === undefined) {
    throw new Error(`the tiny checkpoint has no ${name}`);
  }
  return found;
}

/** Row `index` of an embedding table `[rows, hidden]`. */
export function tableRow(w: Weights, name: string, index: number): number[] {
  const table = tensor(w, name);
  const hidden = table.shape[1] as number;
  return Array.from(table.data.subarray(index * hidden, (index + 1) * hidden));
}

export function linearForward(x: Matrix, w: Weights, prefix: string): Matrix {
  const weight = tensor(w, `${prefix}.weight`);
  const bias = tensor(w, `${prefix}.bias`).data;
  const [out, inFeatures] = weight.shape as [number, number];
  return x.map((row) =>
    Array.from({ length: out }, (_, o) => {
      let sum = bias[o] as number;
      for (let i = 0; i < inFeatures; i++) {
        sum += (row[i] as number) * (weight.data[o * inFeatures + i] as number);
      }
      return sum;
    }),
  );
}

/** LayerNorm over each row, biased variance, eps 1e-12 (both architectures' value here). */
export function layerNormForward(x: Matrix, w: Weights, prefix: string): Matrix {
  const gamma = tensor(w, `${prefix}.weight`).data;
  const beta = tensor(w, `${prefix}.bias`).data;
  return x.map((row) => {
    const mean = row.reduce((a, b) => a + b, 0) / row.length;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-12)) * (gamma[i] as number) + (beta[i] as number));
  });
}

const addRows = (a: Matrix, b: Matrix): Matrix => a.map((row, i) => row.map((x, f) => x + (b[i]?.[f] as number)));

export interface ReferenceEncoder {
  readonly modules: (layer: number) => LayerModules;
  readonly layers: number;
  readonly heads: number;
  readonly activation: ReferenceActivation;
  /** The score of query row → key `j` after masking, from the raw scaled score and the key's 0/1 mask value. */
  readonly maskScore: (score: number, keep: number) => number;
}

/**
 * Embeddings `LayerNorm(Σ tables[row])` of one sequence: `rows(s)` names, for position s, the `[name, row]` pairs
 * summed in order (e.g. word id, position, token type).
 */
export function embeddingsForward(
  w: Weights,
  prefix: string,
  length: number,
  rows: (s: number) => readonly (readonly [string, number])[],
): Matrix {
  const h = Array.from({ length }, (_, s) =>
    rows(s)
      .map(([table, row]) => tableRow(w, `${prefix}.${table}.weight`, row))
      .reduce((sum, row) => sum.map((x, i) => x + (row[i] as number))),
  );
  return layerNormForward(h, w, `${prefix}.LayerNorm`);
}

/** Every encoder layer in turn on one sequence's embeddings; `mask` is 1 for real tokens, 0 for padding. */
export function encoderForward(h: Matrix, w: Weights, mask: readonly number[], encoder: ReferenceEncoder): Matrix {
  let out = h;
  for (let layer = 0; layer < encoder.layers; layer++) {
    out = encoderLayerForward(out, w, mask, encoder.modules(layer), encoder);
  }
  return out;
}

/**
 * One post-LN encoder layer on one sequence: per head h (features h·d … h·d+d−1), `softmax(q·kᵀ/√d, masked)·v`;
 * then `a = LN(h + out(ctx))`, `h' = LN(a + W2·act(W1·a))`.
 */
export function encoderLayerForward(
  h: Matrix,
  w: Weights,
  mask: readonly number[],
  m: LayerModules,
  layer: Omit<ReferenceEncoder, 'modules' | 'layers'>,
): Matrix {
  const hidden = h[0]?.length ?? 0;
  const d = hidden / layer.heads;
  const [q, k, v] = [m.query, m.key, m.value].map((prefix) => linearForward(h, w, prefix)) as [Matrix, Matrix, Matrix];
  const context: Matrix = h.map(() => new Array<number>(hidden).fill(0));
  for (let head = 0; head < layer.heads; head++) {
    for (let i = 0; i < h.length; i++) {
      const scores = h.map((_, j) => {
        let dot = 0;
        for (let e = head * d; e < (head + 1) * d; e++) {
          dot += (q[i]?.[e] as number) * (k[j]?.[e] as number);
        }
        return layer.maskScore(dot / Math.sqrt(d), mask[j] as number);
      });
      const max = Math.max(...scores);
      const exps = scores.map((s) => Math.exp(s - max));
      const total = exps.reduce((a, b) => a + b, 0);
      const row = context[i] as number[];
      exps.forEach((e, j) => {
        for (let f = head * d; f < (head + 1) * d; f++) {
          row[f] = (row[f] as number) + (e / total) * (v[j]?.[f] as number);
        }
      });
    }
  }
  const attended = layerNormForward(addRows(linearForward(context, w, m.attentionOutput), h), w, m.attentionNorm);
  const act = REFERENCE_ACTIVATIONS[layer.activation];
  const intermediate = linearForward(attended, w, m.intermediate).map((row) => row.map(act));
  return layerNormForward(addRows(linearForward(intermediate, w, m.output), attended), w, m.outputNorm);
}

/** `{"0": "LABEL_0", ...}` for `labels` labels, or the names given. */
export function id2label(labels: number | readonly string[]): Record<string, string> {
  const names = typeof labels === 'number' ? Array.from({ length: labels }, (_, i) => `LABEL_${i}`) : labels;
  return Object.fromEntries(names.map((name, i) => [String(i), name]));
}
