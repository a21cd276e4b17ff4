import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { TfServingStrategy } from '../src/inference/index.js';
import { startApp } from './support/app.js';
import { StandInProcess } from './support/tf-serving/stand-in.handle.js';
import { TORCH_GOLDEN } from './support/golden.js';

const V1 = '/v1/inference/sentiment_analysis';
const V2 = '/v2/inference/sentiment_analysis';

const golden = TORCH_GOLDEN.cases;

/** A stand-in process and the app start in a few seconds, more on a loaded 2-CPU machine (Jest's 5 s default was hit in CI). */
const START_TIMEOUT_MS = 30_000;

describe('v2 sentiment API against the TF Serving protocol stand-in (real SavedModel in tfjs)', () => {
  let tfServing: StandInProcess;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    tfServing = await StandInProcess.start();
    app = await startApp({
      TF_SERVING_URL: tfServing.url,
      TF_SERVING_TIMEOUT_MS: '30000',
      TF_SERVING_RETRIES: '1',
      TF_SERVING_STATUS_INTERVAL_MS: '100000',
    });
    await app.get(TfServingStrategy).checkHealth();
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await app.close();
    await tfServing.close();
  });

  beforeEach(async () => {
    await tfServing.setFaults({});
  });

  it('should answer the original curl example with the same label as v1', async () => {
    const server = app.getHttpServer();
    const v2 = await request(server)
      .post(V2)
      .set('accept', 'application/json')
      .set('Content-Type', 'application/json')
      .send('{"sentence": "this is a bad example"}')
      .expect(200);
    const v1 = await request(server).post(V1).send({ sentence: 'this is a bad example' }).expect(200);
    expect(v2.body.sentiment).toBe('NEGATIVE');
    expect(v2.body.sentiment).toBe(v1.body.sentiment);
    expect(v2.headers['x-inference-backend']).toBe('tf-serving');
    expect(v2.headers['x-model-name']).toBe('sentiment_analysis');
    expect(v2.headers['x-model-version']).toBe('1');
    expect(v2.headers['x-model-precision']).toBe('fp32');
  });

  it('should give the same answers as v1 on the golden set (labels equal, confidence within 1e-4)', async () => {
    const sentences = golden.map((c) => c.sentence);
    const server = app.getHttpServer();
    const v1 = await request(server).post(`${V1}/batch`).send({ sentences }).expect(200);
    const v2 = await request(server).post(`${V2}/batch`).send({ sentences }).expect(200);
    const a = v1.body.predictions as { sentiment: string; confidence: number }[];
    const b = v2.body.predictions as { sentiment: string; confidence: number }[];
    expect(b.map((p) => p.sentiment)).toEqual(a.map((p) => p.sentiment));
    b.forEach((p, i) => expect(Math.abs(p.confidence - a[i]!.confidence)).toBeLessThan(1e-4));
  }, 60_000);

  it('should send one columnar predict per request, with the signature inputs, equal lengths and integer ids', async () => {
    await tfServing.takeRequests();
    await request(app.getHttpServer())
      .post(`${V2}/batch`)
      .send({ sentences: ['short', 'a somewhat longer sentence here'] })
      .expect(200);
    const predicts = (await tfServing.takeRequests()).filter((r) => r.path.endsWith(':predict'));
    expect(predicts).toHaveLength(1);
    const body = predicts[0]!.body as { signature_name: string; inputs: Record<string, number[][]> };
    expect(body.signature_name).toBe('serving_default');
    expect(Object.keys(body.inputs).sort()).toEqual(['attention_mask', 'input_ids', 'token_type_ids']);
    const lengths = new Set(Object.values(body.inputs).flatMap((rows) => rows.map((row) => row.length)));
    expect(lengths.size).toBe(1);
    expect(body.inputs.input_ids!.flat().every(Number.isInteger)).toBe(true);
  });

  it("should answer 502 carrying TF Serving's error text when TF Serving fails with a 500", async () => {
    await tfServing.setFaults({ fail500: 1 });
    const res = await request(app.getHttpServer()).post(V2).send({ sentence: 'fine' }).expect(502);
    expect(res.body).toMatchObject({ statusCode: 502, error: 'Bad Gateway' });
    expect(res.body.message).toBe(
      'TensorFlow Serving answered 500: Injected fault: internal error in the serving session',
    );
  });

  it('should answer 502 for a malformed or wrongly shaped answer', async () => {
    await tfServing.setFaults({ malformedJson: true });
    const bad = await request(app.getHttpServer()).post(V2).send({ sentence: 'fine' }).expect(502);
    expect(bad.body.message).toMatch(/TensorFlow Serving gave an invalid answer: unparsable body/);
    await tfServing.setFaults({ wrongShape: true });
    const shape = await request(app.getHttpServer()).post(V2).send({ sentence: 'fine' }).expect(502);
    expect(shape.body.message).toMatch(/expected 2 scores per sentence, got 1/);
  });

  it('should retry a dropped connection once and succeed', async () => {
    await tfServing.setFaults({ dropConnections: 1 });
    await request(app.getHttpServer()).post(V2).send({ sentence: 'fine' }).expect(200);
  });

  it('should keep the same input rules as v1', async () => {
    const res = await request(app.getHttpServer()).post(V2).send({ sentence: '   ' }).expect(400);
    expect(res.body.message).toMatch(/must not be empty or only whitespace/);
  });

  it("should describe the served model from TF Serving's metadata", async () => {
    const res = await request(app.getHttpServer()).get(V2).expect(200);
    expect(res.body).toMatchObject({
      name: 'sentiment_analysis',
      version: '1',
      backend: 'tf-serving',
      precision: 'fp32',
      labels: ['NEGATIVE', 'POSITIVE'],
      inputs: ['attention_mask', 'input_ids', 'token_type_ids'],
    });
  });
});

describe('v2 when TF Serving is down, loading or unloaded', () => {
  let tfServing: StandInProcess;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    // Long enough to outlast the app's start-up (ONNX workers warm up before it is ready).
    tfServing = await StandInProcess.start({ loadMs: 3000 });
    app = await startApp({
      TF_SERVING_URL: tfServing.url,
      TF_SERVING_TIMEOUT_MS: '1000',
      TF_SERVING_RETRIES: '0',
      TF_SERVING_STATUS_INTERVAL_MS: '100000',
    });
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await app.close();
    await tfServing.close();
  });

  it('should flip /health/dependencies with the model state, while /health/ready stays green for v1', async () => {
    const server = app.getHttpServer();
    const loading = await request(server).get('/health/dependencies').expect(503);
    expect(loading.body.error.v2_tf_serving).toEqual({ status: 'down', state: 'loading' });
    await request(server).get('/health/ready').expect(200);
    let available = await request(server).get('/health/dependencies');
    for (let tries = 0; available.status !== 200 && tries < 50; tries++) {
      await new Promise((r) => setTimeout(r, 100));
      available = await request(server).get('/health/dependencies');
    }
    expect(available.status).toBe(200);
    expect(available.body.info.v2_tf_serving).toEqual({
      status: 'up',
      model: 'sentiment_analysis',
      version: '1',
      backend: 'tf-serving',
    });
  });

  it('should answer 504 when TF Serving is slower than TF_SERVING_TIMEOUT_MS, and v1 still answers', async () => {
    await tfServing.setFaults({ delayMs: 1500 });
    const res = await request(app.getHttpServer()).post(V2).send({ sentence: 'fine' }).expect(504);
    expect(res.body.message).toBe('TensorFlow Serving did not answer within 1000 ms');
    await request(app.getHttpServer()).post(V1).send({ sentence: 'fine' }).expect(200);
    await tfServing.setFaults({});
  });

  it('should answer 503 when the model is unloaded, and recover when it is back', async () => {
    const server = app.getHttpServer();
    await tfServing.unload('sentiment_analysis', '1');
    const res = await request(server).post(V2).send({ sentence: 'fine' }).expect(503);
    expect(res.body.message).toMatch(
      /TensorFlow Serving is unavailable: Servable not found for request: Latest\(sentiment_analysis\)/,
    );
    expect(res.headers['retry-after']).toBe('1');
    await request(server).get('/health/dependencies').expect(503);
    await tfServing.setState('sentiment_analysis', '1', 'AVAILABLE');
    await request(server).post(V2).send({ sentence: 'fine' }).expect(200);
  });

  it('should answer 503 when TF Serving is unreachable, keep v1 and readiness up, and recover by itself', async () => {
    const server = app.getHttpServer();
    await tfServing.stop();
    const res = await request(server).post(V2).send({ sentence: 'fine' }).expect(503);
    expect(res.body.message).toMatch(/TensorFlow Serving is unavailable: ECONNREFUSED/);
    const deps = await request(server).get('/health/dependencies').expect(503);
    expect(deps.body.error.v2_tf_serving).toMatchObject({
      status: 'down',
      state: 'failed',
      reason: expect.stringMatching(/ECONNREFUSED/),
    });
    await request(server).get('/health/ready').expect(200);
    await request(server).post(V1).send({ sentence: 'fine' }).expect(200);

    await tfServing.start();
    await request(server).post(V2).send({ sentence: 'fine' }).expect(200);
    await request(server).get('/health/dependencies').expect(200);
  });
});

/** Issue 15's probes: TF Serving answering, but badly. The breaker is off so that each call reaches it. */
describe('v2 against a TF Serving that drips or floods its answer', () => {
  let tfServing: StandInProcess;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    tfServing = await StandInProcess.start();
    app = await startApp({
      TF_SERVING_URL: tfServing.url,
      TF_SERVING_TIMEOUT_MS: '2000',
      TF_SERVING_RETRIES: '0',
      TF_SERVING_CIRCUIT_MIN_CALLS: '0',
    });
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await app.close();
    await tfServing.close();
  });

  it.each([
    ['drips its answer, a byte every 100 ms', { dripMs: 100 }, [504]],
    // Refused as it streams in, past 4 MiB.
    ['answers a 400 whose error text is 50 MB', { oversizedErrorBytes: 50 * 2 ** 20 }, [502]],
  ])(
    'should answer a 5xx within its budget, small, when TF Serving %s, with v1 unaffected',
    async (_name, faults, statuses) => {
      await tfServing.setFaults(faults);
      const server = app.getHttpServer();
      const started = performance.now();
      const v2 = request(server).post(V2).send({ sentence: 'fine' });
      // v1 meanwhile: one request after another, each timed.
      const v1Times: number[] = [];
      const v1 = (async () => {
        for (let i = 0; i < 5; i++) {
          const sent = performance.now();
          await request(server).post(V1).send({ sentence: 'fine' }).expect(200);
          v1Times.push(performance.now() - sent);
        }
      })();
      const res = await v2;
      const v2Ms = performance.now() - started;
      await v1;
      await tfServing.setFaults({});
      expect(statuses).toContain(res.status);
      // TF_SERVING_TIMEOUT_MS is 2000 here: the whole answer, body included, is bounded by it.
      expect(v2Ms).toBeLessThan(3000);
      expect(res.text.length).toBeLessThan(16 * 1024);
      expect(Math.max(...v1Times)).toBeLessThan(1000);
    },
    15_000,
  );
});

describe('v2 routed to a version label or a pinned version', () => {
  let tfServing: StandInProcess;
  beforeAll(async () => {
    tfServing = await StandInProcess.start();
    await tfServing.setLabel('sentiment_analysis', 'stable', '1');
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await tfServing.close();
  });

  it('should call /labels/{label}:predict and report the version the label resolves to', async () => {
    const app = await startApp({ TF_SERVING_URL: tfServing.url, TF_SERVING_MODEL_LABEL: 'stable' });
    try {
      await tfServing.takeRequests();
      const res = await request(app.getHttpServer()).post(V2).send({ sentence: 'this is a great example' }).expect(200);
      expect(res.headers['x-model-version']).toBe('1');
      const paths = (await tfServing.takeRequests()).map((r) => r.path);
      expect(paths).toContain('/v1/models/sentiment_analysis/labels/stable:predict');
    } finally {
      await app.close();
    }
  });

  it('should answer 503 for a pinned version TF Serving does not have, and say which', async () => {
    const app = await startApp({
      TF_SERVING_URL: tfServing.url,
      TF_SERVING_MODEL_VERSION: '7',
      TF_SERVING_RETRIES: '0',
    });
    try {
      const res = await request(app.getHttpServer()).post(V2).send({ sentence: 'fine' }).expect(503);
      expect(res.body.message).toMatch(/Could not find version 7 of model sentiment_analysis/);
    } finally {
      await app.close();
    }
  });
});
