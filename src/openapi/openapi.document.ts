import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { APP_CONFIG, type AppConfig } from '../config/index.js';

/** The service's version, from the package.json beside dist/ (also in the image, which runs `node dist/main.js`). */
const SERVICE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The two ways a request may carry an API key (src/security/api-key.guard.ts), as OpenAPI security schemes. */
const API_KEY_SCHEMES = { bearer: 'bearer', header: 'api-key' } as const;

interface SchemaObject {
  properties?: Record<string, SchemaObject>;
  items?: SchemaObject;
  maxLength?: number;
  maxItems?: number;
}

/**
 * The OpenAPI document of the running configuration: the limits it enforces (MAX_SENTENCE_LENGTH, MAX_BATCH_SIZE) in
 * the request schemas, and, with API_KEYS, the two key schemes on the routes that ask for a key (Swagger UI's
 * Authorize button); the health probes and the documentation stay open.
 */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const { security, limits } = app.get<AppConfig>(APP_CONFIG);
  const builder = new DocumentBuilder()
    .setTitle('Sentiment analysis inference service')
    .setDescription(
      'Serves a Hugging Face BERT-family sentiment classifier. v1 runs the ONNX export in-process with ONNX ' +
        'Runtime; v2 asks TensorFlow Serving. Both take `{"sentence": ...}` and answer `{"sentiment", "confidence"}`.',
    )
    .setVersion(SERVICE_VERSION);
  if (security.apiKeys.length > 0) {
    builder
      .addBearerAuth(
        { type: 'http', scheme: 'bearer', description: 'An API key from API_KEYS.' },
        API_KEY_SCHEMES.bearer,
      )
      .addApiKey(
        { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key from API_KEYS.' },
        API_KEY_SCHEMES.header,
      );
  }
  const document = SwaggerModule.createDocument(app, builder.build());

  const schemas = (document.components?.schemas ?? {}) as Record<string, SchemaObject>;
  const sentence = schemas.SentimentRequestDto?.properties?.sentence;
  const sentences = schemas.SentimentBatchRequestDto?.properties?.sentences;
  if (!sentence || !sentences?.items) {
    throw new Error('the OpenAPI document has no sentence or sentences property to carry the request limits');
  }
  sentence.maxLength = limits.maxSentenceLength;
  sentences.items.maxLength = limits.maxSentenceLength;
  sentences.maxItems = limits.maxBatchSize;

  if (security.apiKeys.length > 0) {
    // Either scheme is enough: the API-key guard's routes (and /metrics when METRICS_REQUIRE_API_KEY) ask for one.
    const requirement = [{ [API_KEY_SCHEMES.bearer]: [] }, { [API_KEY_SCHEMES.header]: [] }];
    const guarded = Object.entries(document.paths).filter(
      ([path]) => path.startsWith('/v') || (path === '/metrics' && security.metricsRequireApiKey),
    );
    for (const [, operations] of guarded) {
      for (const operation of Object.values(operations as Record<string, { security?: unknown }>)) {
        operation.security = requirement;
      }
    }
  }
  return document;
}
