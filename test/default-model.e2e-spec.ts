/**
 * The bundled default model (models/sentiment_analysis/1) is what its card says, in the layout a data scientist
 * hands over from Hugging Face, and ONNX Runtime computes what the training framework computed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OnnxSession } from '../src/inference/onnx/onnx-session.js';
import { BertTokenizer } from '../src/model/bert.tokenizer.js';
import { loadModelBundle } from '../src/model/model-bundle.js';
import { hasSst2, sst2Path } from '../tools/common/sst2.js';
import { SafetensorsFile } from '../tools/export/safetensors.js';
import { REPO_ROOT } from './support/app.js';
import { TORCH_GOLDEN } from './support/golden.js';

const DIR = resolve(REPO_ROOT, 'models/sentiment_analysis/1');
const card = readFileSync(join(DIR, 'MODEL_CARD.md'), 'utf8');
const config = JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')) as Record<string, unknown>;
const golden = TORCH_GOLDEN;

describe('the bundled default model', () => {
  it('should have a Hugging Face BertConfig with the labels NEGATIVE and POSITIVE', () => {
    for (const field of [
      'model_type',
      'vocab_size',
      'hidden_size',
      'num_hidden_layers',
      'num_attention_heads',
      'intermediate_size',
      'hidden_act',
      'max_position_embeddings',
      'type_vocab_size',
      'layer_norm_eps',
      'id2label',
      'label2id',
      'architectures',
    ]) {
      expect(config).toHaveProperty(field);
    }
    expect(config.model_type).toBe('bert');
    expect(config.architectures).toEqual(['BertForSequenceClassification']);
    expect(config.id2label).toEqual({ '0': 'NEGATIVE', '1': 'POSITIVE' });
    expect(config.label2id).toEqual({ NEGATIVE: 0, POSITIVE: 1 });
  });

  it("should store its weights under BertForSequenceClassification's parameter names and shapes", () => {
    const weights = SafetensorsFile.open(join(DIR, 'model.safetensors'));
    const H = config.hidden_size as number;
    const I = config.intermediate_size as number;
    const expected: Record<string, number[]> = {
      'bert.embeddings.word_embeddings.weight': [config.vocab_size as number, H],
      'bert.embeddings.position_embeddings.weight': [config.max_position_embeddings as number, H],
      'bert.embeddings.token_type_embeddings.weight': [config.type_vocab_size as number, H],
      'bert.embeddings.LayerNorm.weight': [H],
      'bert.embeddings.LayerNorm.bias': [H],
      'bert.pooler.dense.weight': [H, H],
      'bert.pooler.dense.bias': [H],
      'classifier.weight': [2, H],
      'classifier.bias': [2],
    };
    for (let i = 0; i < (config.num_hidden_layers as number); i++) {
      const p = `bert.encoder.layer.${i}`;
      for (const m of ['query', 'key', 'value']) {
        expected[`${p}.attention.self.${m}.weight`] = [H, H];
        expected[`${p}.attention.self.${m}.bias`] = [H];
      }
      Object.assign(expected, {
        [`${p}.attention.output.dense.weight`]: [H, H],
        [`${p}.attention.output.dense.bias`]: [H],
        [`${p}.attention.output.LayerNorm.weight`]: [H],
        [`${p}.attention.output.LayerNorm.bias`]: [H],
        [`${p}.intermediate.dense.weight`]: [I, H],
        [`${p}.intermediate.dense.bias`]: [I],
        [`${p}.output.dense.weight`]: [H, I],
        [`${p}.output.dense.bias`]: [H],
        [`${p}.output.LayerNorm.weight`]: [H],
        [`${p}.output.LayerNorm.bias`]: [H],
      });
    }
    const tensors = [...weights.tensors.values()];
    expect(Object.fromEntries(tensors.map((t) => [t.name, t.shape]))).toEqual(expected);
    expect(tensors.every((t) => t.dtype === 'F32')).toBe(true);
  });

  it('should ship at most 25 MB of Hugging Face files (the TF Serving export is counted apart)', () => {
    const files = [
      'config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'special_tokens_map.json',
      'vocab.txt',
      'model.safetensors',
      'model.onnx',
      'MODEL_CARD.md',
    ];
    const total = files.reduce((sum, f) => sum + statSync(join(DIR, f)).size, 0);
    expect(total).toBeLessThan(25 * 1024 * 1024);
  });

  it('should declare the interface of a Hugging Face ONNX export and match the training framework within 1e-4', async () => {
    const bundle = loadModelBundle(resolve(DIR, '..'), '1');
    const tokenizer = BertTokenizer.fromFile(bundle.files.tokenizer, bundle.config.maxLength);
    const session = await OnnxSession.create(bundle.files.onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    try {
      expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
      expect(session.numLabels).toBe(2);
      for (const c of golden.cases) {
        const batch = await tokenizer.encodeBatch([c.sentence]);
        expect(Array.from(batch.inputIds)).toEqual(c.input_ids);
        const logits = await session.run(batch);
        c.logits.forEach((expected, j) => expect(Math.abs(logits.data[j]! - expected)).toBeLessThan(1e-4));
      }
    } finally {
      await session.release();
    }
  });

  const withDev = hasSst2('dev') ? it : it.skip;
  if (!hasSst2('dev')) {
    console.warn(
      `SST-2 dev not found at ${sst2Path('dev')}: skipping the model card accuracy check (needs ../shared).`,
    );
  }
  withDev(
    'should reach on SST-2 dev exactly the accuracy its card states (`npm run model:eval`)',
    () => {
      const stated = /\*\*(\d+\.\d+)%\*\* \((\d+)\/872\)/.exec(card);
      expect(stated).not.toBeNull();
      const out = execFileSync(
        process.execPath,
        [resolve(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), 'tools/eval/evaluate.ts', '--json'],
        {
          cwd: REPO_ROOT,
          encoding: 'utf8',
        },
      );
      const result = JSON.parse(out.trim().split('\n').at(-1)!) as { correct: number; accuracy: number };
      expect(result.correct).toBe(Number(stated![2]));
      expect((100 * result.accuracy).toFixed(2)).toBe(stated![1]);
      expect(result.accuracy).toBeGreaterThanOrEqual(0.82);
    },
    60_000,
  );
});
