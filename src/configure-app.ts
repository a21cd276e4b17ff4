import { type INestApplication, VersioningType } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { useContainer } from 'class-validator';
import { Logger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from './config/index.js';
import { HttpDrain, answerClientErrorsAsJson, checkJsonBody, requestId } from './common/index.js';
import { MetricsService, httpMetrics } from './metrics/index.js';
import { applyHttpSecurity } from './security/index.js';
import { CONFIGURED_CONSTRAINTS } from './sentiment/index.js';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const DOCS_PATH = 'docs';

/**
 * Everything main.ts does to the app besides listening, shared with the tests so they exercise the same
 * pipeline: drain tracking, request ids, HTTP metrics, security headers and CORS, logger, body limits, URI
 * versioning, validation container, Swagger.
 */
export function configureApp(app: NestExpressApplication): INestApplication {
  const config = app.get<AppConfig>(APP_CONFIG);
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  const drain = app.get(HttpDrain);
  drain.attach(app.getHttpServer());
  app.use(drain.middleware);
  app.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
    requestId(req, res);
    next();
  });
  app.use(httpMetrics(app.get(MetricsService)));
  applyHttpSecurity(app, config, DOCS_PATH);
  app.useBodyParser('json', { limit: config.server.bodyLimit, strict: true });
  app.use(checkJsonBody);
  answerClientErrorsAsJson(app.getHttpServer());
  app.enableVersioning({ type: VersioningType.URI });
  // Lets the class-validator constraints that need configuration (MAX_SENTENCE_LENGTH, MAX_BATCH_SIZE) come from
  // Nest's DI; class-validator's own container serves every other class (undefined = fall back).
  const injected = new Set<unknown>(CONFIGURED_CONSTRAINTS);
  useContainer(
    { get: <T>(type: new (...args: never[]) => T): T | undefined => (injected.has(type) ? app.get(type) : undefined) },
    { fallback: true, fallbackOnErrors: true },
  );
  if (config.server.docs) {
    SwaggerModule.setup(DOCS_PATH, app, () => createOpenApiDocument(app), { jsonDocumentUrl: `${DOCS_PATH}-json` });
  }
  return app;
}

export function createOpenApiDocument(app: INestApplication) {
  const document = new DocumentBuilder()
    .setTitle('Sentiment analysis inference service')
    .setDescription(
      'Serves a Hugging Face BERT-family sentiment classifier. v1 runs the ONNX export in-process with ONNX ' +
        'Runtime; v2 asks TensorFlow Serving. Both take `{"sentence": ...}` and answer `{"sentiment", "confidence"}`.',
    )
    .setVersion(process.env.npm_package_version ?? '0.0.0')
    .build();
  return SwaggerModule.createDocument(app, document);
}
