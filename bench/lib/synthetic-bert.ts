/**
 * A BERT-shaped model with random weights and the bundled model's tokenizer, written as a model folder
 * (`<root>/1/`: config.json, tokenizer files, model.safetensors, model.onnx from the project's own ONNX emitter).
 * For benchmarks at sizes the repository does not ship (generated, never committed): 12 × 768 is BERT-base.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelBundle } from '../../src/model/model-bundle.js';
import { encodeSafetensors } from '../../tools/export/safetensors.js';
import type * as OnnxWriter from '../../tools/export/onnx/onnx.writer.js';
import { MODEL_DIR } from './service.js';

export interface BertShape {
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly intermediate: number;
}

export const BERT_BASE: BertShape = { hidden: 768, layers: 12, heads: 12, intermediate: 3072 };

/** Writes the model under `root` and returns `root`, or null where the ONNX emitter (tools/) is not available. */
export async function syntheticBert(root: string, shape: BertShape): Promise<string | null> {
  let writer: typeof OnnxWriter | undefined;
  try {
    writer = await import('../../tools/export/onnx/onnx.writer.js');
  } catch {
    return null;
  }
  const source = join(MODEL_DIR, loadModelBundle(MODEL_DIR).version);
  const base = JSON.parse(readFileSync(join(source, 'config.json'), 'utf8')) as Record<string, unknown>;
  const { hidden: H, intermediate: I } = shape;
  const config = {
    ...base,
    hidden_size: H,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    intermediate_size: I,
  };
  const dir = join(root, '1');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) {
    copyFileSync(join(source, file), join(dir, file));
  }
  const V = base.vocab_size as number;
  let seed = 42;
  const random = (n: number, scale = 0.02) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      out[i] = (seed / 2147483648 - 0.5) * 2 * scale;
    }
    return out;
  };
  const t = (shape: number[], fill?: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return { shape, data: fill === undefined ? random(n) : new Float32Array(n).fill(fill) };
  };
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {
    'bert.embeddings.word_embeddings.weight': t([V, H]),
    'bert.embeddings.position_embeddings.weight': t([base.max_position_embeddings as number, H]),
    'bert.embeddings.token_type_embeddings.weight': t([2, H]),
    'bert.embeddings.LayerNorm.weight': t([H], 1),
    'bert.embeddings.LayerNorm.bias': t([H], 0),
    'bert.pooler.dense.weight': t([H, H]),
    'bert.pooler.dense.bias': t([H], 0),
    'classifier.weight': t([2, H]),
    'classifier.bias': t([2], 0),
  };
  for (let i = 0; i < shape.layers; i++) {
    const p = `bert.encoder.layer.${i}`;
    for (const m of ['query', 'key', 'value']) {
      tensors[`${p}.attention.self.${m}.weight`] = t([H, H]);
      tensors[`${p}.attention.self.${m}.bias`] = t([H], 0);
    }
    Object.assign(tensors, {
      [`${p}.attention.output.dense.weight`]: t([H, H]),
      [`${p}.attention.output.dense.bias`]: t([H], 0),
      [`${p}.attention.output.LayerNorm.weight`]: t([H], 1),
      [`${p}.attention.output.LayerNorm.bias`]: t([H], 0),
      [`${p}.intermediate.dense.weight`]: t([I, H]),
      [`${p}.intermediate.dense.bias`]: t([I], 0),
      [`${p}.output.dense.weight`]: t([H, I]),
      [`${p}.output.dense.bias`]: t([H], 0),
      [`${p}.output.LayerNorm.weight`]: t([H], 1),
      [`${p}.output.LayerNorm.bias`]: t([H], 0),
    });
  }
  writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(tensors));
  // What model:import writes: model.onnx, and its weights in model.onnx_data.
  writer.writeOnnxModelFile(join(dir, 'model.onnx'), writer.buildOnnxModel(dir));
  return root;
}
