import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { startApp } from './support/app.js';
import { rawRequest } from './support/raw-request.js';

const ROUTE = '/v1/inference/sentiment_analysis';

interface Case {
  readonly name: string;
  readonly path?: string;
  readonly method?: 'post' | 'get' | 'put' | 'delete';
  readonly contentType?: string | null;
  readonly body?: string | Buffer;
  readonly status: number;
  readonly message: RegExp;
}

const json = (value: unknown) => JSON.stringify(value);

/** Every bad input gets a 4xx JSON error that says what is wrong. Limits: 50 characters, 3 sentences, 2 kB body. */
const CASES: Case[] = [
  { name: 'missing sentence', body: json({}), status: 400, message: /sentence must be a string/ },
  {
    name: 'empty sentence',
    body: json({ sentence: '' }),
    status: 400,
    message: /sentence must not be empty or only whitespace/,
  },
  {
    name: 'whitespace-only sentence',
    body: json({ sentence: ' \t\n ' }),
    status: 400,
    message: /must not be empty or only whitespace/,
  },
  { name: 'number', body: json({ sentence: 42 }), status: 400, message: /sentence must be a string/ },
  { name: 'null', body: json({ sentence: null }), status: 400, message: /sentence must be a string/ },
  {
    name: 'array instead of string',
    body: json({ sentence: ['a'] }),
    status: 400,
    message: /sentence must be a string/,
  },
  {
    name: 'object instead of string',
    body: json({ sentence: { text: 'a' } }),
    status: 400,
    message: /sentence must be a string/,
  },
  {
    name: 'too long',
    body: json({ sentence: 'a'.repeat(51) }),
    status: 400,
    message: /sentence must be at most 50 characters long/,
  },
  {
    // JSON is UTF-8 (RFC 8259): Latin-1 "café" (0xE9) is refused, not classified as "caf\uFFFD".
    name: 'invalid UTF-8 in the sentence',
    body: Buffer.concat([Buffer.from('{"sentence": "caf'), Buffer.from([0xe9]), Buffer.from('"}')]),
    status: 400,
    message: /^the request body is not valid UTF-8$/,
  },
  {
    name: 'a UTF-16 surrogate encoded in UTF-8',
    body: Buffer.concat([Buffer.from('{"sentence": "a'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
    status: 400,
    message: /not valid UTF-8/,
  },
  {
    name: 'unknown field',
    body: json({ sentence: 'ok', lang: 'en' }),
    status: 400,
    message: /property lang should not exist/,
  },
  { name: 'malformed JSON', body: '{"sentence": "unterminated', status: 400, message: /not valid JSON/ },
  { name: 'top-level JSON string', body: '"this is a bad example"', status: 400, message: /not valid JSON/ },
  { name: 'top-level JSON array', body: json([{ sentence: 'a' }]), status: 400, message: /./ },
  { name: 'empty body', body: '', status: 400, message: /sentence must be a string/ },
  {
    name: 'text/plain body',
    contentType: 'text/plain',
    body: 'this is a bad example',
    status: 415,
    message: /Content-Type must be application\/json, got text\/plain/,
  },
  {
    name: 'form body',
    contentType: 'application/x-www-form-urlencoded',
    body: 'sentence=bad',
    status: 415,
    message: /Content-Type must be application\/json/,
  },
  { name: 'no content type', contentType: null, body: json({ sentence: 'a' }), status: 415, message: /none was sent/ },
  {
    name: 'oversized body',
    body: json({ sentence: 'a'.repeat(4096) }),
    status: 413,
    message: /larger than the 2048 bytes limit/,
  },
  {
    name: 'unsupported charset',
    contentType: 'application/json; charset=latin1',
    body: json({ sentence: 'a' }),
    status: 415,
    message: /Content-Type/,
  },
  {
    name: 'batch: empty',
    path: `${ROUTE}/batch`,
    body: json({ sentences: [] }),
    status: 400,
    message: /sentences should not be empty/,
  },
  {
    name: 'batch: too many',
    path: `${ROUTE}/batch`,
    body: json({ sentences: ['a', 'b', 'c', 'd'] }),
    status: 400,
    message: /at most 3 sentences/,
  },
  {
    name: 'batch: not an array',
    path: `${ROUTE}/batch`,
    body: json({ sentences: 'a' }),
    status: 400,
    message: /sentences must be an array/,
  },
  {
    name: 'batch: non-string item',
    path: `${ROUTE}/batch`,
    body: json({ sentences: ['a', 2] }),
    status: 400,
    message: /each value in sentences must be a string/,
  },
  {
    name: 'batch: blank item',
    path: `${ROUTE}/batch`,
    body: json({ sentences: ['a', ' '] }),
    status: 400,
    message: /each of sentences must not be empty/,
  },
  {
    name: 'batch: item too long',
    path: `${ROUTE}/batch`,
    body: json({ sentences: ['a', 'b'.repeat(51)] }),
    status: 400,
    message: /each of sentences must be at most 50 characters/,
  },
  {
    name: 'batch: single-sentence body',
    path: `${ROUTE}/batch`,
    body: json({ sentence: 'a' }),
    status: 400,
    message: /property sentence should not exist/,
  },
  {
    name: 'unknown route',
    path: '/v1/inference/nope',
    body: json({ sentence: 'a' }),
    status: 404,
    message: /no route POST \/v1\/inference\/nope/,
  },
  {
    name: 'unknown version',
    path: '/v9/inference/sentiment_analysis',
    body: json({ sentence: 'a' }),
    status: 404,
    message: /no route POST/,
  },
  { name: 'wrong method', method: 'put', body: json({ sentence: 'a' }), status: 404, message: /no route PUT/ },
  {
    name: 'GET unknown path',
    method: 'get',
    path: '/nothing/here',
    status: 404,
    message: /no route GET \/nothing\/here/,
  },
];

describe('bad input on v1 (4xx JSON errors, service stays healthy)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp({ MAX_SENTENCE_LENGTH: '50', MAX_BATCH_SIZE: '3', BODY_LIMIT: '2kb' });
  });
  afterAll(async () => {
    await app.close();
  });

  it.each(CASES)('$name → $status', async (c) => {
    const headers: Record<string, string> =
      c.contentType === null ? {} : { 'Content-Type': c.contentType ?? 'application/json' };
    const res = await rawRequest(app.getHttpServer(), {
      method: (c.method ?? 'post').toUpperCase(),
      path: c.path ?? ROUTE,
      headers,
      ...(c.body === undefined ? {} : { body: c.body }),
    });
    expect(res.status).toBe(c.status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.body as { message: string; requestId: string };
    expect(body).toMatchObject({ statusCode: c.status, error: expect.any(String), requestId: expect.any(String) });
    expect(body.message).toMatch(c.message);
    expect(body.requestId).toBe(res.headers['x-request-id']);
    expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+|node_modules|\/work\//);
  });

  it('should list every problem when several fields are wrong', async () => {
    const res = await request(app.getHttpServer())
      .post(`${ROUTE}/batch`)
      .send({ sentences: ['ok', 3, ' '], extra: true })
      .expect(400);
    expect(res.body.details).toEqual(
      expect.arrayContaining([
        'property extra should not exist',
        'each value in sentences must be a string',
        'each of sentences must not be empty or only whitespace',
      ]),
    );
  });

  it('should accept exactly the limits', async () => {
    await request(app.getHttpServer())
      .post(ROUTE)
      .send({ sentence: 'é'.repeat(50) })
      .expect(200);
    await request(app.getHttpServer())
      .post(ROUTE)
      .send({ sentence: '😀'.repeat(50) })
      .expect(200);
    await request(app.getHttpServer())
      .post(`${ROUTE}/batch`)
      .send({ sentences: ['a', 'b', 'c'] })
      .expect(200);
  });

  it('should still be ready and answer correctly after all of that', async () => {
    await request(app.getHttpServer()).get('/health/ready').expect(200);
    const res = await request(app.getHttpServer()).post(ROUTE).send({ sentence: 'this is a bad example' }).expect(200);
    expect(res.body.sentiment).toBe('NEGATIVE');
  });
});
