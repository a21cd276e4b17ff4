/**
 * v1 serving model.int8.onnx (ONNX_PRECISION=int8): which file answers is visible in the header and the metadata,
 * the answers agree with fp32, and SST-2 dev accuracy stays within 1 point of fp32 (where ../shared is present).
 * The start-up refusal without the file is in service-process.e2e-spec.ts (it needs the built process).
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { hasSst2, sst2Path } from '../tools/common/sst2.js';
import { evaluateOnDev } from '../tools/eval/sst2-dev.evaluation.js';
import { DEFAULT_MODEL_DIR, startApp } from './support/app.js';
import { TORCH_GOLDEN } from './support/golden.js';

const ROUTE = '/v1/inference/sentiment_analysis';

describe('v1 on the int8 model (ONNX_PRECISION=int8)', () => {
  let int8: NestFastifyApplication;
  let fp32: NestFastifyApplication;

  beforeAll(async () => {
    // One after the other: two apps loading ONNX Runtime into worker threads at the same moment gain nothing here.
    int8 = await startApp({ ONNX_PRECISION: 'int8' });
    fp32 = await startApp();
  }, 30_000);

  afterAll(async () => {
    await Promise.all([int8?.close(), fp32?.close()]);
  });

  it('should say which weights answer, in the header and the metadata', async () => {
    const res = await request(int8.getHttpServer()).post(ROUTE).send({ sentence: 'this is a bad example' }).expect(200);
    expect(res.body.sentiment).toBe('NEGATIVE');
    expect(res.headers['x-model-precision']).toBe('int8');
    const metadata = await request(int8.getHttpServer()).get(ROUTE).expect(200);
    expect(metadata.body).toMatchObject({ backend: 'onnxruntime', precision: 'int8', version: '1' });
    await request(int8.getHttpServer()).get('/health/ready').expect(200);
  });

  it('should answer like fp32 on the golden set: same labels, confidence within 0.05', async () => {
    const sentences = TORCH_GOLDEN.cases.map((c) => c.sentence);
    const answer = (app: NestFastifyApplication) =>
      request(app.getHttpServer()).post(`${ROUTE}/batch`).send({ sentences }).expect(200);
    const [a, b] = [await answer(int8), await answer(fp32)];
    expect(a.headers['x-model-precision']).toBe('int8');
    expect(b.headers['x-model-precision']).toBe('fp32');
    type Predictions = { sentiment: string; confidence: number }[];
    const [quantized, reference] = [a.body.predictions as Predictions, b.body.predictions as Predictions];
    expect(quantized).toHaveLength(sentences.length);
    expect(quantized.map((p) => p.sentiment)).toEqual(reference.map((p) => p.sentiment));
    quantized.forEach((p, i) => expect(Math.abs(p.confidence - reference[i]!.confidence)).toBeLessThan(0.05));
  });

  const withDev = hasSst2('dev') ? it : it.skip;
  if (!hasSst2('dev')) {
    console.warn(`SST-2 dev not found at ${sst2Path('dev')}: skipping the int8 accuracy gate (needs ../shared).`);
  }
  withDev(
    'should stay within 1 point of fp32 accuracy on SST-2 dev (`npm run model:eval -- --precision int8`)',
    async () => {
      const [quantized, reference] = [
        await evaluateOnDev(DEFAULT_MODEL_DIR, undefined, 'int8'),
        await evaluateOnDev(DEFAULT_MODEL_DIR, undefined, 'fp32'),
      ];
      expect(quantized.total).toBe(872);
      expect(Math.abs(quantized.accuracy - reference.accuracy)).toBeLessThanOrEqual(0.01);
    },
    60_000,
  );
});
