import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { type BertTokenizer, TOKENIZER, softmax } from '../src/model/index.js';
import { startApp } from './support/app.js';
import { TORCH_GOLDEN } from './support/golden.js';

const ROUTE = '/v1/inference/sentiment_analysis';

const golden = TORCH_GOLDEN;
const LABELS = ['NEGATIVE', 'POSITIVE'];

describe('v1 sentiment API (ONNX Runtime, bundled model)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('should answer the original curl example verbatim: NEGATIVE with high confidence', async () => {
    const res = await request(app.getHttpServer())
      .post(ROUTE)
      .set('accept', 'application/json')
      .set('Content-Type', 'application/json')
      .send('{"sentence": "this is a bad example"}')
      .expect(200)
      .expect('Content-Type', /application\/json/);
    expect(Object.keys(res.body as object).sort()).toEqual(['confidence', 'sentiment']);
    expect(res.body.sentiment).toBe('NEGATIVE');
    expect(res.body.confidence).toBeGreaterThan(0.9);
    expect(res.body.confidence).toBeLessThanOrEqual(1);
  });

  it('should say POSITIVE for a positive sentence', async () => {
    const res = await request(app.getHttpServer())
      .post(ROUTE)
      .send({ sentence: 'this is a great example' })
      .expect(200);
    expect(res.body.sentiment).toBe('POSITIVE');
    expect(res.body.confidence).toBeGreaterThan(0.9);
  });

  it('should carry model name, version and backend in headers, not in the body', async () => {
    const res = await request(app.getHttpServer()).post(ROUTE).send({ sentence: 'fine' }).expect(200);
    expect(res.headers['x-model-name']).toBe('sentiment_analysis');
    expect(res.headers['x-model-version']).toBe('1');
    expect(res.headers['x-inference-backend']).toBe('onnxruntime');
    expect(res.headers['x-model-precision']).toBe('fp32');
    expect(res.headers['x-truncated-count']).toBe('0');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('should echo a valid X-Request-Id and replace an invalid one', async () => {
    const given = await request(app.getHttpServer())
      .post(ROUTE)
      .set('X-Request-Id', 'abc-123')
      .send({ sentence: 'ok' });
    expect(given.headers['x-request-id']).toBe('abc-123');
    const bad = await request(app.getHttpServer())
      .post(ROUTE)
      .set('X-Request-Id', 'no spaces\tor tabs')
      .send({ sentence: 'ok' });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('should match the training framework on the golden sentences (label, and confidence within 1e-4)', async () => {
    for (const c of golden.cases) {
      const probabilities = softmax(c.logits);
      const best = probabilities[1]! > probabilities[0]! ? 1 : 0;
      const res = await request(app.getHttpServer()).post(ROUTE).send({ sentence: c.sentence }).expect(200);
      expect(res.body.sentiment).toBe(LABELS[best]);
      expect(Math.abs((res.body.confidence as number) - probabilities[best]!)).toBeLessThan(1e-4);
    }
  });

  it('should answer a batch one result per sentence, in order, equal to single calls', async () => {
    const sentences = golden.cases.map((c) => c.sentence);
    const res = await request(app.getHttpServer()).post(`${ROUTE}/batch`).send({ sentences }).expect(200);
    const predictions = res.body.predictions as { sentiment: string; confidence: number; truncated?: boolean }[];
    expect(predictions).toHaveLength(sentences.length);
    for (const [i, sentence] of sentences.entries()) {
      const single = await request(app.getHttpServer()).post(ROUTE).send({ sentence }).expect(200);
      expect(predictions[i]!.sentiment).toBe(single.body.sentiment);
      expect(Math.abs(predictions[i]!.confidence - (single.body.confidence as number))).toBeLessThan(1e-5);
    }
    const reversed = await request(app.getHttpServer())
      .post(`${ROUTE}/batch`)
      .send({ sentences: [...sentences].reverse() })
      .expect(200);
    expect((reversed.body.predictions as { sentiment: string }[]).map((p) => p.sentiment)).toEqual(
      predictions.map((p) => p.sentiment).reverse(),
    );
  });

  it('should truncate an over-long sentence to the model length and say so', async () => {
    const long = 'a wonderful , moving film '.repeat(60);
    const single = await request(app.getHttpServer()).post(ROUTE).send({ sentence: long }).expect(200);
    expect(single.headers['x-truncated-count']).toBe('1');
    const batch = await request(app.getHttpServer())
      .post(`${ROUTE}/batch`)
      .send({ sentences: ['short', long] })
      .expect(200);
    expect(batch.headers['x-truncated-count']).toBe('1');
    expect(batch.body.predictions[0].truncated).toBeUndefined();
    expect(batch.body.predictions[1].truncated).toBe(true);
  });

  it('should describe the model it serves', async () => {
    const res = await request(app.getHttpServer()).get(ROUTE).expect(200);
    expect(res.body).toEqual({
      name: 'sentiment_analysis',
      version: '1',
      backend: 'onnxruntime',
      precision: 'fp32',
      labels: LABELS,
      inputs: ['input_ids', 'attention_mask', 'token_type_ids'],
      maxTokens: 128,
      maxSentenceLength: 2000,
      maxBatchSize: 64,
    });
  });

  it('should tokenize through the checked fast path by default, with the same answers as with it off', async () => {
    const reference = await startApp({ TOKENIZER_FAST_PATH: 'false' });
    try {
      expect(app.get<BertTokenizer>(TOKENIZER).fastPath).toBe(true);
      expect(reference.get<BertTokenizer>(TOKENIZER).fastPath).toBe(false);
      const sentences = ['a “gripping” thriller…', 'Ça ne marche pas, pas du tout.', '漢字 and Σ', 'dull'];
      const [fast, slow] = await Promise.all(
        [app, reference].map((served) =>
          request(served.getHttpServer()).post(`${ROUTE}/batch`).send({ sentences }).expect(200),
        ),
      );
      expect(fast!.body).toEqual(slow!.body);
    } finally {
      await reference.close();
    }
  });

  it('should route a trailing slash and any letter case to the same endpoint, as the Express version did', async () => {
    for (const path of [`${ROUTE}/`, ROUTE.toUpperCase(), `${ROUTE}?debug=1`]) {
      const res = await request(app.getHttpServer()).post(path).send({ sentence: 'this is a bad example' }).expect(200);
      expect(res.body).toMatchObject({ sentiment: 'NEGATIVE' });
    }
  });
});
