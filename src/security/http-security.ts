import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import type { AppConfig } from '../config/index.js';

/**
 * HTTP hardening applied before any route: helmet's security headers (a strict CSP, except on the Swagger UI
 * page, which needs its own inline bootstrap), CORS only for configured origins, and how many proxies' client
 * addresses to trust.
 */
export function applyHttpSecurity(app: NestExpressApplication, config: AppConfig, docsPath: string): void {
  const strict = helmet();
  const docs = helmet({ contentSecurityPolicy: false });
  app.use((req: { path: string }, res: unknown, next: (error?: unknown) => void) =>
    (req.path === `/${docsPath}` || req.path.startsWith(`/${docsPath}/`) ? docs : strict)(
      req as never,
      res as never,
      next,
    ),
  );
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
  if (config.security.trustProxyHops > 0) {
    app.set('trust proxy', config.security.trustProxyHops);
  }
}
