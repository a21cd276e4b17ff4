import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet from 'helmet';
import type { AppConfig } from '../config/index.js';

/**
 * HTTP hardening applied before any route: helmet's security headers (a strict CSP, except on the Swagger UI
 * pages, which need their own inline bootstrap) and CORS only for configured origins. Which proxies' client
 * addresses to trust is a Fastify option (createHttpAdapter).
 */
export function applyHttpSecurity(app: NestFastifyApplication, config: AppConfig, docsPath: string): void {
  // Built once: helmet's middleware works on Node's request and response, which Fastify's hooks expose as .raw.
  const strict = helmet();
  const docs = helmet({ contentSecurityPolicy: false });
  const docsUrl = new RegExp(`^/${docsPath}(?:[/?]|$)`);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (req, reply, done) => {
      (docsUrl.test(req.url) ? docs : strict)(req.raw, reply.raw, (error?: unknown) =>
        done(error instanceof Error ? error : undefined),
      );
    });
  const origins = config.security.corsOrigins;
  if (origins.length > 0) {
    app.enableCors({
      origin: origins.includes('*') ? '*' : [...origins],
      methods: ['GET', 'POST'],
      allowedHeaders: ['Content-Type', 'Authorization', 'X-API-Key', 'X-Request-Id', 'X-Request-Timeout-Ms'],
      exposedHeaders: ['X-Request-Id', 'X-Model-Name', 'X-Model-Version', 'X-Inference-Backend', 'Retry-After'],
      maxAge: 600,
    });
  }
}
