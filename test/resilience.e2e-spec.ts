/**
 * Issue 7's behaviours, each against the real app: backpressure (in-flight and queue limits → 429), deadlines
 * (→ 504, header that shortens them), a disconnected client's request dropped before it costs a model run, the
 * v2 circuit breaker (fails fast, v1 unaffected, recovers by itself), /metrics, and the security defaults
 * (helmet headers, API keys, rate limit, CORS).
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TfServingStrategy } from '../src/inference/index.js';
import { helmetHeaders } from '../src/security/index.js';
import { startApp } from './support/app.js';
import { StandInProcess } from './support/tf-serving/stand-in.handle.js';

const V1 = '/v1/inference/sentiment_analysis';
const V2 = '/v2/inference/sentiment_analysis';
const KEY = 'k'.repeat(8) + '-test-key-0123456789';

/** The value of one Prometheus sample (0 when absent), e.g. `sentiment_batch_size_count{api_version="2"}`. */
function sample(metrics: string, series: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function scrape(app: NestFastifyApplication): Promise<string> {
  const res = await request(app.getHttpServer()).get('/metrics').expect(200);
  return res.text;
}

describe('v2 under load and faults (TF Serving stand-in)', () => {
  let tfServing: StandInProcess;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    tfServing = await StandInProcess.start();
    app = await startApp({
      TF_SERVING_URL: tfServing.url,
      TF_SERVING_TIMEOUT_MS: '5000',
      TF_SERVING_RETRIES: '0',
      TF_SERVING_STATUS_INTERVAL_MS: '100000',
      TF_SERVING_CIRCUIT_MIN_CALLS: '3',
      TF_SERVING_CIRCUIT_RESET_MS: '500',
      MAX_IN_FLIGHT: '3',
      BATCH_CONCURRENCY_V2: '1',
      BATCH_MAX_SIZE: '1',
      REQUEST_TIMEOUT_MS: '3000',
    });
    await app.get(TfServingStrategy).checkHealth();
  });
  afterAll(async () => {
    await app.close();
    await tfServing.close();
  });
  beforeEach(() => tfServing.setFaults({}));

  it('should answer 429 with Retry-After beyond MAX_IN_FLIGHT, at once, and serve again afterwards', async () => {
    await tfServing.setFaults({ delayMs: 400 });
    const server = app.getHttpServer();
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => request(server).post(V2).send({ sentence: 'fine' })),
    );
    const refused = answers.filter((res) => res.status === 429);
    expect(answers.filter((res) => res.status === 200)).toHaveLength(3);
    expect(refused).toHaveLength(3);
    for (const res of refused) {
      expect(res.headers['retry-after']).toBe('1');
      expect(res.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
      expect(res.body.message).toMatch(/at capacity \(3 requests in progress\)/);
    }
    expect(Date.now() - started).toBeLessThan(3000);
    await tfServing.setFaults({});
    await request(server).post(V2).send({ sentence: 'fine' }).expect(200);
  });

  it('should answer 504 when the request deadline passes, and let X-Request-Timeout-Ms shorten it', async () => {
    await tfServing.setFaults({ delayMs: 3500 });
    const server = app.getHttpServer();
    let started = Date.now();
    const late = await request(server).post(V2).send({ sentence: 'fine' }).expect(504);
    expect(late.body.message).toBe('the request was not answered within its 3000 ms deadline');
    expect(Date.now() - started).toBeLessThan(3400);
    started = Date.now();
    const short = await request(server)
      .post(V2)
      .set('X-Request-Timeout-Ms', '200')
      .send({ sentence: 'fine' })
      .expect(504);
    expect(short.body.message).toBe('the request was not answered within its 200 ms deadline');
    expect(Date.now() - started).toBeLessThan(1500);
    // A longer header never extends REQUEST_TIMEOUT_MS; a malformed one is a 400.
    const bad = await request(server).post(V1).set('X-Request-Timeout-Ms', 'soon').send({ sentence: 'fine' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/X-Request-Timeout-Ms must be a whole number/);
    await tfServing.setFaults({});
    // The deadline also bounds v1, and a generous header changes nothing there.
    await request(server).post(V1).set('X-Request-Timeout-Ms', '999999').send({ sentence: 'fine' }).expect(200);
  });

  it("should drop a disconnected client's queued request before it reaches TF Serving", async () => {
    await tfServing.setFaults({ delayMs: 600 });
    await tfServing.takeRequests();
    const server = app.getHttpServer();
    const { port } = server.address() as AddressInfo;
    // A occupies the only model call slot (BATCH_CONCURRENCY_V2=1, BATCH_MAX_SIZE=1); B queues behind it.
    const first = request(server).post(V2).send({ sentence: 'first' });
    const firstDone = first.then((res) => res.status);
    await new Promise((r) => setTimeout(r, 100));
    const body = JSON.stringify({ sentence: 'second' });
    const second = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: V2,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    });
    second.on('error', () => undefined);
    second.end(body);
    await new Promise((r) => setTimeout(r, 100));
    second.destroy();
    expect(await firstDone).toBe(200);
    await new Promise((r) => setTimeout(r, 900));
    const predicts = (await tfServing.takeRequests()).filter((r) => r.path.endsWith(':predict'));
    expect(predicts).toHaveLength(1);
    expect(JSON.stringify(predicts[0]!.body)).not.toContain('second');
    const metrics = await scrape(app);
    expect(
      sample(
        metrics,
        'http_requests_total{method="POST",route="/v2/inference/sentiment_analysis",api_version="2",status="499"}',
      ),
    ).toBeGreaterThanOrEqual(1);
  });

  it('should open the circuit after repeated failures (503 at once, v1 unaffected) and close it when TF Serving recovers', async () => {
    const server = app.getHttpServer();
    await tfServing.setFaults({ fail500: 1000 });
    // Earlier tests' successes are still in the 10 s window: it opens once failures reach 50% of the calls.
    let failures = 0;
    let open = await request(server).post(V2).send({ sentence: 'fine' });
    while (open.status === 502 && failures < 30) {
      failures++;
      open = await request(server).post(V2).send({ sentence: 'fine' });
    }
    expect(open.status).toBe(503);
    expect(failures).toBeGreaterThanOrEqual(3);
    await tfServing.takeRequests();
    open = await request(server).post(V2).send({ sentence: 'fine' }).expect(503);
    expect(open.body.message).toMatch(/circuit breaker open/);
    expect(open.headers['retry-after']).toBe('1');
    expect((await tfServing.takeRequests()).filter((r) => r.path.endsWith(':predict'))).toHaveLength(0);
    await request(server).post(V1).send({ sentence: 'fine' }).expect(200);
    let metrics = await scrape(app);
    expect(sample(metrics, 'sentiment_upstream_circuit_state{upstream="TensorFlow Serving",state="open"}')).toBe(1);
    expect(
      sample(metrics, 'sentiment_upstream_errors_total{upstream="TensorFlow Serving",kind="circuit_open"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(metrics, 'sentiment_upstream_errors_total{upstream="TensorFlow Serving",kind="http_error"}'),
    ).toBeGreaterThanOrEqual(3);

    await tfServing.setFaults({});
    await new Promise((r) => setTimeout(r, 600));
    await request(server).post(V2).send({ sentence: 'fine' }).expect(200);
    await request(server).post(V2).send({ sentence: 'fine' }).expect(200);
    metrics = await scrape(app);
    expect(sample(metrics, 'sentiment_upstream_circuit_state{upstream="TensorFlow Serving",state="closed"}')).toBe(1);
  });
});

describe('/metrics', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp({ TF_SERVING_URL: 'http://127.0.0.1:9' });
  });
  afterAll(() => app.close());

  it('should expose the documented series in Prometheus text format, and move them with traffic', async () => {
    const res = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of [
      'http_requests_total',
      'http_request_duration_seconds',
      'sentiment_tokenization_duration_seconds',
      'sentiment_request_tokens',
      'sentiment_queue_wait_seconds',
      'sentiment_inference_duration_seconds',
      'sentiment_batch_size',
      'sentiment_requests_in_flight',
      'sentiment_queue_rows',
      'sentiment_upstream_errors_total',
      'sentiment_upstream_circuit_state',
      'sentiment_model_info',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_gc_duration_seconds', // bench/lib/gc.ts reads it
    ]) {
      expect(res.text).toContain(`# TYPE ${name} `);
    }
    expect(res.text).toContain(
      'sentiment_model_info{api_version="1",model="sentiment_analysis",model_version="1",backend="onnxruntime"} 1',
    );
    const route = 'route="/v1/inference/sentiment_analysis",api_version="1",status="200"';
    const before = await scrape(app);
    await request(app.getHttpServer()).post(V1).send({ sentence: 'a fine film' }).expect(200);
    await request(app.getHttpServer())
      .post(`${V1}/batch`)
      .send({ sentences: ['good', 'bad', 'ok'] })
      .expect(200);
    await request(app.getHttpServer()).post(V1).send({ sentence: '' }).expect(400);
    await request(app.getHttpServer()).post(V2).send({ sentence: 'fine' });
    const after = await scrape(app);
    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(delta(`http_requests_total{method="POST",${route}}`)).toBe(1);
    expect(delta(`http_request_duration_seconds_count{method="POST",${route}}`)).toBe(1);
    expect(
      delta('http_requests_total{method="POST",route="/v1/inference/sentiment_analysis",api_version="1",status="400"}'),
    ).toBe(1);
    expect(delta('sentiment_tokenization_duration_seconds_count{api_version="1"}')).toBe(2);
    expect(delta('sentiment_request_tokens_sum{api_version="1"}')).toBeGreaterThan(10);
    expect(delta('sentiment_batch_size_sum{api_version="1"}')).toBe(4);
    expect(delta('sentiment_inference_duration_seconds_count{api_version="1"}')).toBeGreaterThanOrEqual(1);
    expect(delta('sentiment_queue_wait_seconds_count{api_version="1"}')).toBe(2);
    expect(delta('sentiment_upstream_errors_total{upstream="TensorFlow Serving",kind="unreachable"}')).toBe(1);
    expect(after).toContain('sentiment_requests_in_flight{api_version="1"} 0');
    // Unknown paths share one label value: a scanner cannot blow up the series count.
    await request(app.getHttpServer()).get('/wp-login.php').expect(404);
    await request(app.getHttpServer()).get('/.env').expect(404);
    const scanned = await scrape(app);
    expect(sample(scanned, 'http_requests_total{method="GET",route="unmatched",api_version="none",status="404"}')).toBe(
      2,
    );
    expect(scanned).not.toContain('wp-login');
  });
});

describe('security defaults', () => {
  let app: NestFastifyApplication;

  afterEach(() => app.close());

  it('should send security headers, no CORS headers unless configured, and no framework banner', async () => {
    app = await startApp({ TF_SERVING_URL: 'http://127.0.0.1:9' });
    const res = await request(app.getHttpServer())
      .post(V1)
      .set('Origin', 'https://evil.example')
      .send({ sentence: 'fine' })
      .expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    // Every header helmet sets, with helmet's value, on answers and errors alike; the docs pages without the CSP.
    const strict = helmetHeaders();
    const server = app.getHttpServer();
    for (const answer of [
      res,
      await request(server).post(V1).send({ sentence: '' }).expect(400),
      await request(server).get('/no/such/route').expect(404),
      await request(server).post(V1).set('Content-Type', 'text/plain').send('x').expect(415),
    ]) {
      expect(answer.headers).toMatchObject(strict);
    }
    const docs = await request(server).get('/docs').expect(200);
    expect(docs.headers).toMatchObject(helmetHeaders({ contentSecurityPolicy: false }));
    expect(docs.headers['content-security-policy']).toBeUndefined();
  });

  it('should allow only the configured CORS origins', async () => {
    app = await startApp({ TF_SERVING_URL: 'http://127.0.0.1:9', CORS_ORIGINS: 'https://app.example' });
    const ok = await request(app.getHttpServer()).post(V1).set('Origin', 'https://app.example').send({ sentence: 'x' });
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
    const other = await request(app.getHttpServer())
      .post(V1)
      .set('Origin', 'https://evil.example')
      .send({ sentence: 'x' });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('should require an API key on inference routes when keys are configured, and keep probes open', async () => {
    app = await startApp({ TF_SERVING_URL: 'http://127.0.0.1:9', API_KEYS: `${KEY},another-key-0123456789` });
    const server = app.getHttpServer();
    const missing = await request(server).post(V1).send({ sentence: 'fine' }).expect(401);
    expect(missing.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect(missing.body.message).toMatch(/an API key is required/);
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    const wrong = await request(server).post(V1).set('Authorization', `Bearer ${KEY}x`).send({ sentence: 'fine' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.message).toBe('the API key is not valid');
    await request(server).get(V1).expect(401);
    await request(server).post(V1).set('Authorization', `Bearer ${KEY}`).send({ sentence: 'fine' }).expect(200);
    await request(server).post(V1).set('X-API-Key', 'another-key-0123456789').send({ sentence: 'fine' }).expect(200);
    await request(server).get('/health/live').expect(200);
    await request(server).get('/health/ready').expect(200);
    await request(server).get('/metrics').expect(200);
  });

  it('should protect /metrics too with METRICS_REQUIRE_API_KEY', async () => {
    app = await startApp({ TF_SERVING_URL: 'http://127.0.0.1:9', API_KEYS: KEY, METRICS_REQUIRE_API_KEY: 'true' });
    await request(app.getHttpServer()).get('/metrics').expect(401);
    await request(app.getHttpServer()).get('/metrics').set('X-API-Key', KEY).expect(200);
    await request(app.getHttpServer()).get('/health/live').expect(200);
  });

  it('should rate-limit each client on inference routes with 429, Retry-After and RateLimit headers', async () => {
    app = await startApp({ TF_SERVING_URL: 'http://127.0.0.1:9', RATE_LIMIT: '2', RATE_LIMIT_WINDOW_MS: '60000' });
    const server = app.getHttpServer();
    const first = await request(server).post(V1).send({ sentence: 'fine' }).expect(200);
    expect(first.headers['ratelimit-limit']).toBe('2');
    expect(first.headers['ratelimit-remaining']).toBe('1');
    await request(server).post(V1).send({ sentence: 'fine' }).expect(200);
    const limited = await request(server).post(V1).send({ sentence: 'fine' }).expect(429);
    expect(limited.body.message).toMatch(/too many requests from this client/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    await request(server).get('/health/ready').expect(200);
    await request(server).get('/metrics').expect(200);
  });

  it('should rate-limit wrong API keys too, so keys cannot be guessed at full speed', async () => {
    app = await startApp({ TF_SERVING_URL: 'http://127.0.0.1:9', API_KEYS: KEY, RATE_LIMIT: '2' });
    const server = app.getHttpServer();
    const guess = (key: string) => request(server).post(V1).set('X-API-Key', key).send({ sentence: 'fine' });
    await guess('a-wrong-key-guess-0001').expect(401);
    await guess('a-wrong-key-guess-0002').expect(401);
    const limited = await guess(KEY).expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    await request(server).get('/health/live').expect(200);
  });

  it('should key the rate limit on the client X-Forwarded-For names only when TRUST_PROXY_HOPS trusts the proxy', async () => {
    const limits = { TF_SERVING_URL: 'http://127.0.0.1:9', RATE_LIMIT: '1', RATE_LIMIT_WINDOW_MS: '60000' };
    const send = (server: unknown, client: string) =>
      request(server as never)
        .post(V1)
        .set('X-Forwarded-For', client)
        .send({ sentence: 'fine' });
    app = await startApp({ ...limits, TRUST_PROXY_HOPS: '1' });
    await send(app.getHttpServer(), '203.0.113.1').expect(200);
    await send(app.getHttpServer(), '203.0.113.2').expect(200);
    await send(app.getHttpServer(), '203.0.113.1').expect(429);
    await app.close();
    // Untrusted: the header is ignored and every request is the proxy's own address.
    app = await startApp(limits);
    await send(app.getHttpServer(), '203.0.113.1').expect(200);
    await send(app.getHttpServer(), '203.0.113.2').expect(429);
  });
});
