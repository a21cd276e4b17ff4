import { BadRequestException, type INestApplication, VersioningType } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { useContainer } from 'class-validator';
import { Logger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from './config/index.js';
import { MESSAGES } from './errors/index.js';
import { HttpDrain, JSON_MEDIA_TYPE, answerClientErrorAsJson, checkJsonBody, markArrival } from './http/index.js';
import { REQUEST_ID_HEADER, httpLogOptions, logsRequests, requestId, requestLogging } from './logging/index.js';
import { MetricsService, httpMetrics } from './metrics/index.js';
import { createOpenApiDocument } from './openapi/openapi.document.js';
import { applyHttpSecurity } from './security/index.js';
import { CONFIGURED_CONSTRAINTS } from './sentiment/index.js';

export const DOCS_PATH = 'docs';

/**
 * The HTTP layer: Fastify (measured against Express in `npm run bench`: the same Nest app costs a third of the CPU
 * per request). Body limit, trusted proxies and the JSON answer to malformed HTTP are server options.
 */
export function createHttpAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: config.server.bodyLimit,
    // X-Forwarded-For entries from the closest TRUST_PROXY_HOPS proxies are trusted (client IPs for the rate limit).
    trustProxy: (_address: string, hop: number) => hop < config.security.trustProxyHops,
    clientErrorHandler: answerClientErrorAsJson(config.server.receiveTimeoutMs),
    // While the server closes, a request that still arrives on an open connection is answered (with Connection:
    // close, see HttpDrain), not given Fastify's own 503 body, which lacks the documented shape and request id.
    return503OnClosing: false,
    // A whole request (headers and body) must arrive within RECEIVE_TIMEOUT_MS, checked every second (Node checks
    // every 30 s by default, and Fastify turns its request timeout off).
    requestTimeout: config.server.receiveTimeoutMs,
    http: {
      requestTimeout: config.server.receiveTimeoutMs,
      headersTimeout: config.server.receiveTimeoutMs,
      connectionsCheckingInterval: 1000,
    },
    genReqId: requestId,
    // Keys named like Object.prototype members are refused by checkJsonBody with a message naming the key.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    logger: false,
    // As the Express version routed: a trailing slash and the path's case do not matter.
    routerOptions: { ignoreTrailingSlash: true, caseSensitive: false },
    // A URL that does not decode is answered before any hook runs: same error shape, with its request id.
    frameworkErrors: (_error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      void reply
        .header(REQUEST_ID_HEADER, req.id)
        .status(400)
        .send({ statusCode: 400, error: 'Bad Request', message: MESSAGES.MALFORMED_URL, requestId: req.id });
    },
  });
}

/**
 * Everything main.ts does to the app besides listening, shared with the tests so they exercise the same
 * pipeline: drain tracking, request ids, HTTP metrics, security headers and CORS, logger, JSON bodies only, URI
 * versioning, validation container, Swagger.
 */
export async function configureApp(app: NestFastifyApplication): Promise<INestApplication> {
  const config = app.get<AppConfig>(APP_CONFIG);
  app.useLogger(app.get(Logger));
  const fastify = app.getHttpAdapter().getInstance();
  const drain = app.get(HttpDrain);
  drain.attach(app.getHttpServer());
  fastify.addHook('onRequest', (req, reply, done) => {
    markArrival(req.raw, config.requests.timeoutMs);
    drain.track(req.raw, reply.raw);
    reply.header(REQUEST_ID_HEADER, req.id);
    done();
  });
  if (logsRequests(config.log.level)) {
    fastify.addHook('onRequest', requestLogging(httpLogOptions(config)));
  }
  fastify.addHook('onRequest', httpMetrics(app.get(MetricsService)));
  applyHttpSecurity(app, config, DOCS_PATH);
  // JSON only: application/json and application/*+json (Fastify would otherwise also parse text/plain); an empty
  // body reads as {}, so it fails validation naming the missing field. JSON is UTF-8 (RFC 8259): bytes that are not
  // are a 400, not silently replaced by U+FFFD and classified.
  const parseJson = fastify.getDefaultJsonParser('ignore', 'ignore');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  fastify.removeContentTypeParser(['application/json', 'text/plain']);
  fastify.addContentTypeParser(JSON_MEDIA_TYPE, { parseAs: 'buffer' }, (req, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(new BadRequestException(MESSAGES.INVALID_UTF8), undefined);
      return;
    }
    if (text.trim() === '') {
      done(null, {});
    } else {
      void parseJson(req, text, done);
    }
  });
  fastify.addHook('preValidation', checkJsonBody);
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
  await app.init();
  return app;
}
