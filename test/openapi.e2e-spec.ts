import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Validator } from '@seriousme/openapi-schema-validator';
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
    app = await startApp();
    doc = (await request(app.getHttpServer()).get('/docs-json').expect(200)).body as OpenApiDocument;
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
    expect(Object.keys(schemas.SentimentResponseDto!.properties).sort()).toEqual(['confidence', 'sentiment']);
    expect(schemas.ErrorResponseDto).toBeDefined();
  });

  it('should serve Swagger UI at /docs', async () => {
    const res = await request(app.getHttpServer()).get('/docs').expect(200);
    expect(res.text).toMatch(/swagger-ui/i);
  });
});
