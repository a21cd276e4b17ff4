import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppConfig } from '../config/index.js';

/**
 * The headers helmet's middleware sets with `options` (names in lower case), recorded once by running it against a
 * response that only records: with options that use no nonces they depend on nothing in the request (a test
 * checks). Setting the recorded headers costs a request far less than running the middleware, which allocated
 * about 7 KB per request, the largest share of this service's own garbage that outlived the young generation.
 */
export function helmetHeaders(options?: Readonly<HelmetOptions>): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let outcome: { error: unknown } | null = null;
  helmet(options)({ headers: {} } as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    outcome = { error };
  });
  if (outcome === null) {
    throw new Error('helmet did not set its headers synchronously');
  }
  const { error } = outcome as { error: unknown };
  if (error !== undefined) {
    throw error instanceof Error ? error : new Error('helmet could not set its headers');
  }
  return Object.freeze(headers);
}

/**
 * HTTP hardening applied before any route: helmet's security headers (a strict CSP, except on the Swagger UI
 * pages, which need their own inline bootstrap) and CORS only for configured origins. Which proxies' client
 * addresses to trust is a Fastify option (createHttpAdapter).
 */
export function applyHttpSecurity(app: NestFastifyApplication, config: AppConfig, docsPath: string): void {
  const strict = helmetHeaders();
  const docs = helmetHeaders({ contentSecurityPolicy: false });
  const docsUrl = new RegExp(`^/${docsPath}(?:[/?]|$)`);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (req, reply, done) => {
      reply.headers(docsUrl.test(req.url) ? docs : strict);
      done();
    });
  const origins = config.security.corsOrigins;
  if (origins.length > 0) {
    app.enableCors({
      origin: origins.includes('*') ? '*' : [...origins],
      methods: ['GET', 'POST'],
      allowedHeaders: ['Content-Type', 'Authorization', 'X-API-Key', 'X-Request-Id', 'X-Request-Timeout-Ms'],
      exposedHeaders: [
        'X-Request-Id',
        'X-Model-Name',
        'X-Model-Version',
        'X-Inference-Backend',
        'X-Model-Precision',
        'Retry-After',
      ],
      maxAge: 600,
    });
  }
}
