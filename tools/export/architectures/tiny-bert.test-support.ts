/**
 * Test support for the exporter specs (SavedModel and ONNX): tiny random BERT checkpoints and a plain float64
 * re-implementation of BertForSequenceClassification (tools/train/bert.py: additive −10000 mask, exact erf GELU,
 * post-LN) that both exporters' graphs are checked against.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSafetensors } from '../safetensors.js';

export interface TinyConfig {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  positions: number;
  types: number;
  labels: number;
}

export type Weights = Record<string, { shape: number[]; data: Float32Array }>;

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

export function tinyCheckpoint(c: TinyConfig, seed: number): Weights {
  const values = random(seed);
  const weights: Weights = {};
  const add = (name: string, shape: number[], scale?: number) => {
    weights[name] = {
      shape,
      data: values(
        shape.reduce((a, b) => a * b, 1),
        scale,
      ),
    };
  };
  const linear = (prefix: string, inFeatures: number, outFeatures: number) => {
    add(`${prefix}.weight`, [outFeatures, inFeatures]);
    add(`${prefix}.bias`, [outFeatures], 0.1);
  };
  const norm = (prefix: string) => {
    weights[`${prefix}.weight`] = { shape: [c.hidden], data: values(c.hidden, 0.2).map((v) => 1 + v) };
    add(`${prefix}.bias`, [c.hidden], 0.1);
  };
  add('bert.embeddings.word_embeddings.weight', [c.vocab, c.hidden], 1);
  add('bert.embeddings.position_embeddings.weight', [c.positions, c.hidden], 1);
  add('bert.embeddings.token_type_embeddings.weight', [c.types, c.hidden], 1);
  norm('bert.embeddings.LayerNorm');
  for (let i = 0; i < c.layers; i++) {
    const p = `bert.encoder.layer.${i}`;
    for (const name of ['query', 'key', 'value']) {
      linear(`${p}.attention.self.${name}`, c.hidden, c.hidden);
    }
    linear(`${p}.attention.output.dense`, c.hidden, c.hidden);
    norm(`${p}.attention.output.LayerNorm`);
    linear(`${p}.intermediate.dense`, c.hidden, c.intermediate);
    linear(`${p}.output.dense`, c.intermediate, c.hidden);
    norm(`${p}.output.LayerNorm`);
  }
  linear('bert.pooler.dense', c.hidden, c.hidden);
  linear('classifier', c.hidden, c.labels);
  return weights;
}

// ---- float64 reference forward pass (rows are plain arrays) ----

type Matrix = number[][];

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

function linearForward(x: Matrix, w: Weights, prefix: string): Matrix {
  const weight = w[`${prefix}.weight`] as { shape: number[]; data: Float32Array };
  const bias = (w[`${prefix}.bias`] as { data: Float32Array }).data;
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

function layerNormForward(x: Matrix, w: Weights, prefix: string): Matrix {
  const gamma = (w[`${prefix}.weight`] as { data: Float32Array }).data;
  const beta = (w[`${prefix}.bias`] as { data: Float32Array }).data;
  return x.map((row) => {
    const mean = row.reduce((a, b) => a + b, 0) / row.length;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-12)) * (gamma[i] as number) + (beta[i] as number));
  });
}

export function referenceLogits(c: TinyConfig, w: Weights, ids: number[], mask: number[], types: number[]): number[] {
  const table = (name: string, index: number) =>
    Array.from((w[name] as { data: Float32Array }).data.subarray(index * c.hidden, (index + 1) * c.hidden));
  let h: Matrix = ids.map((id, s) => {
    const word = table('bert.embeddings.word_embeddings.weight', id);
    const position = table('bert.embeddings.position_embeddings.weight', s);
    const type = table('bert.embeddings.token_type_embeddings.weight', types[s] as number);
    return word.map((v, i) => v + (position[i] as number) + (type[i] as number));
  });
  h = layerNormForward(h, w, 'bert.embeddings.LayerNorm');
  const d = c.hidden / c.heads;
  for (let layer = 0; layer < c.layers; layer++) {
    const p = `bert.encoder.layer.${layer}`;
    const [q, k, v] = ['query', 'key', 'value'].map((name) => linearForward(h, w, `${p}.attention.self.${name}`)) as [
      Matrix,
      Matrix,
      Matrix,
    ];
    const context: Matrix = h.map(() => new Array<number>(c.hidden).fill(0));
    for (let head = 0; head < c.heads; head++) {
      for (let i = 0; i < ids.length; i++) {
        const scores = ids.map((_, j) => {
          let dot = 0;
          for (let e = head * d; e < (head + 1) * d; e++) {
            dot += (q[i]?.[e] as number) * (k[j]?.[e] as number);
          }
          return dot / Math.sqrt(d) + (1 - (mask[j] as number)) * -10000;
        });
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, b) => a + b, 0);
        exps.forEach((e, j) => {
          for (let f = head * d; f < (head + 1) * d; f++) {
            (context[i] as number[])[f] = ((context[i] as number[])[f] as number) + (e / total) * (v[j]?.[f] as number);
          }
        });
      }
    }
    const attended = layerNormForward(
      linearForward(context, w, `${p}.attention.output.dense`).map((row, i) =>
        row.map((x, f) => x + (h[i]?.[f] as number)),
      ),
      w,
      `${p}.attention.output.LayerNorm`,
    );
    const intermediate = linearForward(attended, w, `${p}.intermediate.dense`).map((row) =>
      row.map((x) => 0.5 * x * (1 + erf(x / Math.SQRT2))),
    );
    h = layerNormForward(
      linearForward(intermediate, w, `${p}.output.dense`).map((row, i) =>
        row.map((x, f) => x + (attended[i]?.[f] as number)),
      ),
      w,
      `${p}.output.LayerNorm`,
    );
  }
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
      id2label: Object.fromEntries(Array.from({ length: c.labels }, (_, i) => [String(i), `LABEL_${i}`])),
    }),
  );
}
