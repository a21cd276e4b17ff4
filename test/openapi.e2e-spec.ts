import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Validator } from '@seriousme/openapi-schema-validator';
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import request from 'supertest';
import { startApp } from './support/app.js';

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>>;
  components: { schemas: Record<string, unknown> };
}

describe('OpenAPI document and Swagger UI', () => {
  let app: NestFastifyApplication;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    // npm sets npm_package_version for `npm test` and `npm start`, not for the image's `node dist/main.js`: a version
    // read from it would be wrong there (0.0.0); this value makes such a read visible here.
    const npmVersion = process.env.npm_package_version;
    process.env.npm_package_version = '9.9.9-from-npm';
    try {
      app = await startApp();
      doc = (await request(app.getHttpServer()).get('/docs-json').expect(200)).body as OpenApiDocument;
    } finally {
      if (npmVersion === undefined) {
        delete process.env.npm_package_version;
      } else {
        process.env.npm_package_version = npmVersion;
      }
    }
  });
  afterAll(async () => {
    await app.close();
  });

  it('should be a valid OpenAPI 3 document', async () => {
    const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(doc.openapi).toMatch(/^3\./);
  });

  it('should list every route the app serves', () => {
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/health/dependencies',
      '/health/live',
      '/health/ready',
      '/metrics',
      '/v1/inference/sentiment_analysis',
      '/v1/inference/sentiment_analysis/batch',
      '/v2/inference/sentiment_analysis',
      '/v2/inference/sentiment_analysis/batch',
    ]);
    for (const version of ['v1', 'v2']) {
      expect(Object.keys(doc.paths[`/${version}/inference/sentiment_analysis`]!).sort()).toEqual(['get', 'post']);
    }
  });

  it('should document request and response schemas, examples and error responses for inference', () => {
    const post = doc.paths['/v1/inference/sentiment_analysis']!.post!;
    expect(Object.keys(post.responses).sort()).toEqual(['200', '400', '401', '408', '413', '415', '429', '503', '504']);
    const v2 = doc.paths['/v2/inference/sentiment_analysis']!.post!;
    expect(Object.keys(v2.responses).sort()).toEqual([
      '200',
      '400',
      '401',
      '408',
      '413',
      '415',
      '429',
      '502',
      '503',
      '504',
    ]);
    expect(JSON.stringify(post.requestBody)).toContain('SentimentRequestDto');
    const schemas = doc.components.schemas as Record<string, { properties: Record<string, { example?: unknown }> }>;
    expect(schemas.SentimentRequestDto!.properties.sentence!.example).toBe('this is a bad example');
    // Headers the document names are the ones the service sends.
    expect(JSON.stringify(doc)).not.toMatch(/X-Truncated(?!-Count)/);
    expect(Object.keys(schemas.SentimentResponseDto!.properties).sort()).toEqual(['confidence', 'sentiment']);
    expect(schemas.ErrorResponseDto).toBeDefined();
  });

  it('should show, for every error status of the inference routes, an example of that status', () => {
    const examples = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/v'))
      .flatMap(([path, operations]) =>
        Object.entries(operations).flatMap(([method, operation]) =>
          Object.entries(operation.responses as Record<string, { content?: Record<string, { example?: unknown }> }>)
            .filter(([status]) => Number(status) >= 400)
            .map(([status, response]) => ({
              at: `${method.toUpperCase()} ${path} ${status}`,
              example: response.content?.['application/json']?.example as { statusCode?: number; error?: string },
              status: Number(status),
            })),
        ),
      );
    expect(examples.length).toBeGreaterThan(30);
    // Before: every error status showed the 400 example "sentence must not be empty".
    expect(
      examples.filter(
        ({ example, status }) => example?.statusCode !== status || example.error !== STATUS_CODES[status],
      ),
    ).toEqual([]);
    expect(new Set(examples.map(({ example }) => JSON.stringify(example))).size).toBeGreaterThan(8);
  });

  it('should serve Swagger UI at /docs', async () => {
    const res = await request(app.getHttpServer()).get('/docs').expect(200);
    expect(res.text).toMatch(/swagger-ui/i);
  });

  it("should state the package's version, whoever starts the service (not npm's npm_package_version)", () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(version).not.toBe('0.0.0');
    expect((doc as unknown as { info: { version: string } }).info.version).toBe(version);
  });

  it('should declare no security scheme when no API key is configured', () => {
    expect((doc.components as { securitySchemes?: unknown }).securitySchemes).toBeUndefined();
  });
});

describe('OpenAPI document with API keys: Authorize works through its security schemes', () => {
  const KEY = 'swagger-authorize-key-0123456789';
  let app: NestFastifyApplication;
  let doc: OpenApiDocument & {
    components: { securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }> };
    paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>;
  };

  beforeAll(async () => {
    app = await startApp({ TF_SERVING_URL: 'http://127.0.0.1:9', API_KEYS: KEY });
    doc = (await request(app.getHttpServer()).get('/docs-json').expect(200)).body as typeof doc;
  });
  afterAll(async () => {
    await app.close();
  });

  it('should stay a valid OpenAPI 3 document', async () => {
    expect((await new Validator().validate(doc as unknown as Record<string, unknown>)).valid).toBe(true);
  });

  it('should ask for a key on the inference routes only, and accept each scheme as Swagger UI would send it', async () => {
    const server = app.getHttpServer();
    const post = doc.paths['/v1/inference/sentiment_analysis']!.post!;
    expect(post.security).toBeDefined();
    expect(doc.paths['/health/ready']!.get!.security).toBeUndefined();
    expect(doc.paths['/metrics']!.get!.security).toBeUndefined();
    const body = { sentence: 'this is a bad example' };
    await request(server).post('/v1/inference/sentiment_analysis').send(body).expect(401);
    // Swagger UI's Authorize: each scheme the operation lists, applied the way OpenAPI defines it.
    for (const requirement of post.security!) {
      const scheme = doc.components.securitySchemes[Object.keys(requirement)[0]!]!;
      const headers: Record<string, string> =
        scheme.type === 'http' && scheme.scheme === 'bearer'
          ? { Authorization: `Bearer ${KEY}` }
          : scheme.type === 'apiKey' && scheme.in === 'header'
            ? { [scheme.name!]: KEY }
            : {};
      expect(Object.keys(headers)).toHaveLength(1);
      const res = await request(server).post('/v1/inference/sentiment_analysis').set(headers).send(body);
      expect(res.status).toBe(200);
      expect(res.body.sentiment).toBe('NEGATIVE');
    }
    expect(post.security).toHaveLength(2);
  });
});
