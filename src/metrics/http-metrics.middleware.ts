import type { NextFunction, Request, Response } from 'express';
import type { MetricsService } from './metrics.service.js';

/**
 * The matched route pattern (bounded label values); requests no route matched (none, or Nest's catch-all 404
 * route `{/*splat}`) share one value.
 */
function routeOf(req: Request): string {
  const { route } = req as unknown as { route?: { path?: unknown } };
  return typeof route?.path === 'string' && !route.path.includes('*') ? `${req.baseUrl}${route.path}` : 'unmatched';
}

/** Counts and times every HTTP request when its response ends (or its connection closes first). */
export function httpMetrics(metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    res.once('close', () => {
      const route = routeOf(req);
      const version = /^\/v(\d+)\//.exec(route)?.[1] ?? 'none';
      const status = res.writableFinished ? res.statusCode : 499;
      metrics.httpRequest(req.method, route, version, status, (performance.now() - started) / 1000);
    });
    next();
  };
}
