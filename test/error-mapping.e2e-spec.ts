import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { ModelNotReadyError } from '../src/errors/index.js';
import { ONNX_INFERENCE } from '../src/inference/index.js';
import { startApp } from './support/app.js';
import { ScriptedStrategy } from './support/scripted-strategy.js';

const ROUTE = '/v1/inference/sentiment_analysis';

describe('HTTP contract over a scripted strategy', () => {
  let app: NestFastifyApplication;
  const strategy = new ScriptedStrategy();

  beforeAll(async () => {
    app = await startApp(
      {},
      { waitForModel: false, override: (b) => b.overrideProvider(ONNX_INFERENCE).useValue(strategy) },
    );
  });
  afterAll(async () => {
    await app.close();
  });

  it("should label each row from config.json's id2label with its softmax probability", async () => {
    strategy.next = (batch) =>
      Promise.resolve({
        data: new Float32Array(batch.batchSize * 2).map((_, i) => (i % 4 === 1 ? 3 : 0)),
        rows: batch.batchSize,
        columns: 2,
      });
    const res = await request(app.getHttpServer())
      .post(`${ROUTE}/batch`)
      .send({ sentences: ['a', 'b'] })
      .expect(200);
    expect(res.body.predictions).toEqual([
      { sentiment: 'POSITIVE', confidence: expect.closeTo(1 / (1 + Math.exp(-3)), 6) },
      { sentiment: 'NEGATIVE', confidence: 0.5 },
    ]);
    expect(res.headers['x-model-name']).toBe('scripted');
    expect(res.headers['x-model-version']).toBe('7');
  });

  it('should map ModelNotReadyError to 503 with Retry-After', async () => {
    strategy.next = () => Promise.reject(new ModelNotReadyError('scripted', 2));
    const res = await request(app.getHttpServer()).post(ROUTE).send({ sentence: 'a' }).expect(503);
    expect(res.headers['retry-after']).toBe('2');
    expect(res.body).toMatchObject({
      statusCode: 503,
      error: 'Service Unavailable',
      message: expect.stringMatching(/not ready/),
    });
  });

  it('should turn an unexpected failure into a bare 500: no message, stack or path leaks', async () => {
    strategy.next = () =>
      Promise.reject(new Error('ENOENT: /work/main/secret/model.onnx at Object.<anonymous> (x.ts:1:1)'));
    const res = await request(app.getHttpServer()).post(ROUTE).send({ sentence: 'a' }).expect(500);
    expect(res.body).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'internal server error',
      requestId: res.headers['x-request-id'],
    });
  });

  it('should refuse logits whose row count does not match the batch, as a 500 without details', async () => {
    strategy.next = () => Promise.resolve({ data: new Float32Array(2), rows: 1, columns: 2 });
    await request(app.getHttpServer())
      .post(`${ROUTE}/batch`)
      .send({ sentences: ['a', 'b'] })
      .expect(500);
  });

  it('should report not-ready strategies on /health/ready', async () => {
    strategy.current = { status: 'failed', reason: 'scripted failure' };
    const res = await request(app.getHttpServer()).get('/health/ready').expect(503);
    expect(res.body.error.v1_onnxruntime).toEqual({ status: 'down', state: 'failed', reason: 'scripted failure' });
    strategy.current = { status: 'ready' };
    await request(app.getHttpServer()).get('/health/ready').expect(200);
  });
});
