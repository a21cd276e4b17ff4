/**
 * The OpenAPI document tells the truth: every route and status it declares is provoked for real here, and each answer
 * (status, JSON body, headers) is checked against the document's schemas; a status the service sends that the
 * document does not declare fails too. The runtimes are scripted so that each status can be provoked on purpose.
 */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { ModelNotReadyError, UpstreamFailedError } from '../src/errors/index.js';
import { ONNX_INFERENCE, TF_SERVING_INFERENCE } from '../src/inference/index.js';
import { startApp } from './support/app.js';
import {
  type AnsweredRequest,
  documentedResponses,
  type OpenApiDocument,
  responseChecker,
} from './support/openapi-responses.js';
import { negativeLogits, ScriptedStrategy } from './support/scripted-strategy.js';

const KEY = 'openapi-responses-key-0123456789';
const AUTH = { Authorization: `Bearer ${KEY}` };
const MAX_SENTENCE_LENGTH = 300;
const MAX_BATCH_SIZE = 4;

describe('the OpenAPI document, against real answers of every route and status', () => {
  let app: NestFastifyApplication;
  let doc: OpenApiDocument;
  let check: (answer: AnsweredRequest) => string[];
  const strategies = { v1: new ScriptedStrategy('onnxruntime'), v2: new ScriptedStrategy('tf-serving') };
  const provoked = new Set<string>();
  const problems: string[] = [];

  beforeAll(async () => {
    app = await startApp(
      {
        API_KEYS: KEY,
        MAX_IN_FLIGHT: '1',
        RECEIVE_TIMEOUT_MS: '1000',
        MAX_SENTENCE_LENGTH: String(MAX_SENTENCE_LENGTH),
        MAX_BATCH_SIZE: String(MAX_BATCH_SIZE),
        BODY_LIMIT: '64kb',
      },
      {
        waitForModel: false,
        override: (builder) =>
          builder
            .overrideProvider(ONNX_INFERENCE)
            .useValue(strategies.v1)
            .overrideProvider(TF_SERVING_INFERENCE)
            .useValue(strategies.v2),
      },
    );
    doc = (await request(app.getHttpServer()).get('/docs-json').expect(200)).body as OpenApiDocument;
    check = responseChecker(doc);
  });
  afterAll(async () => {
    await app.close();
  });
  beforeEach(() => {
    for (const strategy of Object.values(strategies)) {
      strategy.current = { status: 'ready' };
      strategy.next = negativeLogits;
    }
  });

  /** Sends a request, checks the answer against the document, and records which documented response it was. */
  async function answer(
    path: string,
    method: 'GET' | 'POST',
    options: { url?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<AnsweredRequest> {
    const res = await fetch(`${await app.getUrl()}${options.url ?? path}`, {
      method,
      headers: options.headers,
      body: options.body,
    });
    return record({
      path,
      method,
      status: res.status,
      headers: Object.fromEntries(res.headers),
      text: await res.text(),
    });
  }

  function record(answered: AnsweredRequest): AnsweredRequest {
    provoked.add(`${answered.method} ${answered.path} ${answered.status}`);
    problems.push(...check(answered));
    return answered;
  }

  const json = (body: unknown) => ({
    headers: { ...AUTH, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

  /** Sends the headers and half the body, then waits: the service answers 408 after RECEIVE_TIMEOUT_MS. */
  async function slowUpload(path: string): Promise<AnsweredRequest> {
    const { port } = app.getHttpServer().address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    let raw = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (raw += chunk));
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\n` +
        'Content-Length: 100\r\n\r\n{"sentence": "this',
    );
    await new Promise((closed) => socket.on('close', closed));
    const [head = '', text = ''] = raw.split('\r\n\r\n');
    const [statusLine, ...lines] = head.split('\r\n');
    const headers = Object.fromEntries(
      lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
    );
    return record({ path, method: 'POST', status: Number(statusLine?.split(' ')[1]), headers, text });
  }

  describe.each(['v1', 'v2'] as const)('%s', (version) => {
    const strategy = () => strategies[version];
    const route = `/${version}/inference/sentiment_analysis`;
    const cases = [
      { path: route, valid: { sentence: 'this is a bad example' }, invalid: { sentence: ' ' } },
      { path: `${route}/batch`, valid: { sentences: ['a', 'b'] }, invalid: { sentences: [] } },
    ];

    it.each(cases)('POST $path: 200, 400, 401, 408, 413, 415', async ({ path, valid, invalid }) => {
      expect((await answer(path, 'POST', json(valid))).status).toBe(200);
      expect((await answer(path, 'POST', json(invalid))).status).toBe(400);
      expect(
        (await answer(path, 'POST', { ...json(valid), headers: { 'Content-Type': 'application/json' } })).status,
      ).toBe(401);
      expect((await slowUpload(path)).status).toBe(408);
      expect((await answer(path, 'POST', json({ sentence: 'x'.repeat(70_000) }))).status).toBe(413);
      expect((await answer(path, 'POST', { headers: AUTH, body: 'this is a bad example' })).status).toBe(415);
    });

    it.each(cases)('POST $path: 429, 503, 504, and 502 (v2: the backend failed)', async ({ path, valid }) => {
      let release: () => void = () => undefined;
      strategy().next = (batch) => new Promise<void>((done) => (release = done)).then(() => negativeLogits(batch));
      const held = answer(path, 'POST', json(valid));
      await new Promise((wait) => setTimeout(wait, 50));
      // MAX_IN_FLIGHT=1, and one request is in the model.
      expect((await answer(path, 'POST', json(valid))).status).toBe(429);
      release();
      expect((await held).status).toBe(200);

      strategy().next = () => Promise.reject(new ModelNotReadyError('scripted', 2));
      expect((await answer(path, 'POST', json(valid))).status).toBe(503);

      strategy().next = () => new Promise(() => undefined);
      const deadline = json(valid);
      expect(
        (await answer(path, 'POST', { ...deadline, headers: { ...deadline.headers, 'X-Request-Timeout-Ms': '50' } }))
          .status,
      ).toBe(504);

      if (version === 'v2') {
        strategy().next = () =>
          Promise.reject(new UpstreamFailedError('TensorFlow Serving', 'http_error', 400, 'In[0] should be a scalar'));
        expect((await answer(path, 'POST', json(valid))).status).toBe(502);
      }
    });

    it(`GET ${route}: 200, 401, 503`, async () => {
      expect((await answer(route, 'GET', { headers: AUTH })).status).toBe(200);
      expect((await answer(route, 'GET')).status).toBe(401);
      strategy().current = { status: 'loading' };
      expect((await answer(route, 'GET', { headers: AUTH })).status).toBe(503);
    });
  });

  it('GET the health probes and /metrics: 200, and 503 while a runtime is down', async () => {
    for (const path of ['/health/live', '/health/ready', '/health/dependencies', '/metrics']) {
      expect((await answer(path, 'GET')).status).toBe(200);
    }
    strategies.v1.current = { status: 'failed', reason: 'scripted' };
    expect((await answer('/health/ready', 'GET')).status).toBe(503);
    strategies.v2.current = { status: 'failed', reason: 'scripted' };
    expect((await answer('/health/dependencies', 'GET')).status).toBe(503);
  });

  it('should carry the enforced limits in the request schemas', () => {
    const schemas = doc.components!.schemas as Record<
      string,
      { properties: Record<string, { maxLength?: number; maxItems?: number; items?: { maxLength?: number } }> }
    >;
    expect(schemas.SentimentRequestDto!.properties.sentence!.maxLength).toBe(MAX_SENTENCE_LENGTH);
    expect(schemas.SentimentBatchRequestDto!.properties.sentences).toMatchObject({
      maxItems: MAX_BATCH_SIZE,
      items: { maxLength: MAX_SENTENCE_LENGTH },
    });
  });

  it('should have provoked every documented response, and found each answer as documented', () => {
    expect(documentedResponses(doc).filter((name) => !provoked.has(name))).toEqual([]);
    expect(problems).toEqual([]);
  });
});
