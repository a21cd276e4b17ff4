/**
 * The service serves a DistilBERT model folder: config.json (DistilBertConfig, three labels of its own), the
 * bundled tokenizer.json, model.safetensors of a tiny random DistilBertForSequenceClassification, model.onnx written
 * by the TypeScript ONNX emitter (inputs input_ids and attention_mask only, as a Hugging Face Optimum export) for
 * v1, and saved_model.pb from the SavedModel emitter for v2 (through the TF Serving protocol stand-in). The answers
 * must be the float64 reference's labels and softmax confidences for the tokens the service produces.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { BertTokenizer, softmax } from '../src/model/index.js';
import {
  referenceDistilBertLogits,
  type TinyDistilBertConfig,
  tinyDistilBertCheckpoint,
  writeTinyDistilBertFolder,
} from '../tools/export/architectures/tiny-distilbert.test-support.js';
import type { Weights } from '../tools/export/architectures/transformer.test-support.js';
import { exportOnnxModel, ONNX_MODEL_FILE, writeOnnxModelFile } from '../tools/export/onnx/onnx.writer.js';
import { exportSavedModel, writeSavedModelFile } from '../tools/export/saved-model.export.js';
import { TfServingStrategy } from '../src/inference/index.js';
import { DEFAULT_MODEL_DIR, startApp } from './support/app.js';
import { StandInProcess } from './support/tf-serving/stand-in.handle.js';

const ROUTE = '/v1/inference/sentiment_analysis';
const V2 = '/v2/inference/sentiment_analysis';
const MODEL_NAME = 'distilbert_sentiment';
const LABELS = ['sad', 'meh', 'glad'];
const MAX_TOKENS = 16;
const SENTENCES = ['this is a bad example', 'this is a great example', 'an okay film , i guess', 'fine'];

describe('v1 serving a DistilBERT model folder (tiny random weights, TypeScript ONNX export)', () => {
  let root: string;
  let app: NestFastifyApplication;
  let tfServing: StandInProcess;
  let tokenizer: BertTokenizer;
  let c: TinyDistilBertConfig;
  let weights: Weights;

  /** The label and confidence the float64 reference gives the service's own token ids. */
  async function expected(sentences: readonly string[]): Promise<{ sentiment: string; confidence: number }[]> {
    const ids = await tokenizer.encodeIds(sentences);
    return ids.map((row) => {
      const probabilities = Array.from(
        softmax(
          referenceDistilBertLogits(
            c,
            weights,
            row,
            row.map(() => 1),
          ),
        ),
      );
      const best = probabilities.indexOf(Math.max(...probabilities));
      return { sentiment: LABELS[best] as string, confidence: probabilities[best] as number };
    });
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'distilbert-serving-'));
    const modelDir = join(root, MODEL_NAME);
    const dir = join(modelDir, '1');
    mkdirSync(dir, { recursive: true });
    copyFileSync(resolve(DEFAULT_MODEL_DIR, '1', 'tokenizer.json'), join(dir, 'tokenizer.json'));
    tokenizer = BertTokenizer.fromFile(join(dir, 'tokenizer.json'), MAX_TOKENS);
    c = {
      vocab: tokenizer.vocabSize,
      hidden: 8,
      layers: 2,
      heads: 2,
      intermediate: 16,
      positions: MAX_TOKENS,
      labels: LABELS.length,
      labelNames: LABELS,
      activation: 'gelu',
    };
    // A seed whose predictions differ between the sentences (top-two margins ≥ 0.004, far above float32 noise).
    weights = tinyDistilBertCheckpoint(c, 10);
    writeTinyDistilBertFolder(dir, c, weights);
    writeOnnxModelFile(join(dir, ONNX_MODEL_FILE), exportOnnxModel(dir).bytes);
    writeSavedModelFile(dir, exportSavedModel(dir).bytes);
    tfServing = await StandInProcess.start({ modelBase: modelDir, modelName: MODEL_NAME });
    app = await startApp({
      MODEL_DIR: modelDir,
      ONNX_WORKERS: '1',
      TF_SERVING_URL: tfServing.url,
      TF_SERVING_MODEL_NAME: MODEL_NAME,
      TF_SERVING_TIMEOUT_MS: '30000',
      TF_SERVING_STATUS_INTERVAL_MS: '100000',
    });
    await app.get(TfServingStrategy).checkHealth();
  });
  afterAll(async () => {
    await app?.close();
    await tfServing?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('should describe the DistilBERT model: its labels, two inputs and max_position_embeddings tokens', async () => {
    const res = await request(app.getHttpServer()).get(ROUTE).expect(200);
    expect(res.body).toMatchObject({
      name: MODEL_NAME,
      version: '1',
      backend: 'onnxruntime',
      labels: LABELS,
      inputs: ['input_ids', 'attention_mask'],
      maxTokens: MAX_TOKENS,
    });
  });

  it('should answer each sentence with the reference label and confidence, alone and in a padded batch', async () => {
    const want = await expected(SENTENCES);
    expect(new Set(want.map((prediction) => prediction.sentiment)).size).toBeGreaterThan(1);
    const batch = await request(app.getHttpServer()).post(`${ROUTE}/batch`).send({ sentences: SENTENCES }).expect(200);
    const single = await request(app.getHttpServer()).post(ROUTE).send({ sentence: SENTENCES[0] }).expect(200);
    expect(single.headers['x-model-name']).toBe(MODEL_NAME);
    const got = [single.body, ...batch.body.predictions] as { sentiment: string; confidence: number }[];
    [want[0], ...want].forEach((prediction, i) => {
      expect(got[i]?.sentiment).toBe(prediction?.sentiment);
      expect(Math.abs((got[i]?.confidence ?? 0) - (prediction?.confidence ?? 1))).toBeLessThan(1e-5);
    });
  });

  it('should truncate to max_position_embeddings tokens and still answer from the kept tokens', async () => {
    const long = 'a wonderful , moving film '.repeat(10);
    const res = await request(app.getHttpServer()).post(ROUTE).send({ sentence: long }).expect(200);
    expect(res.headers['x-truncated-count']).toBe('1');
    const [want] = await expected([long]);
    expect(res.body.sentiment).toBe(want?.sentiment);
    expect(Math.abs(res.body.confidence - (want?.confidence ?? 1))).toBeLessThan(1e-5);
  });

  it('should answer v2 from the DistilBERT SavedModel, sending only the two inputs its signature lists', async () => {
    const server = app.getHttpServer();
    const metadata = await request(server).get(V2).expect(200);
    expect(metadata.body).toMatchObject({
      backend: 'tf-serving',
      labels: LABELS,
      inputs: ['attention_mask', 'input_ids'],
    });
    const res = await request(server).post(`${V2}/batch`).send({ sentences: SENTENCES }).expect(200);
    const want = await expected(SENTENCES);
    (res.body.predictions as { sentiment: string; confidence: number }[]).forEach((prediction, i) => {
      expect(prediction.sentiment).toBe(want[i]?.sentiment);
      expect(Math.abs(prediction.confidence - (want[i]?.confidence ?? 1))).toBeLessThan(1e-5);
    });
  });
});
