import type { FastifyReply, FastifyRequest } from 'fastify';
import type { MetricsService } from './metrics.service.js';

/**
 * The matched route pattern (bounded label values); requests no route matched (404s, Nest's catch-all) share one
 * value.
 */
function routeOf(req: FastifyRequest): string {
  const route = req.routeOptions.url;
  return typeof route === 'string' && !route.includes('*') ? route : 'unmatched';
}

/** A Fastify onRequest hook that counts and times every request when its response ends (or its connection closes). */
export function httpMetrics(metrics: MetricsService) {
  return (req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const started = performance.now();
    const res = reply.raw;
    res.once('close', () => {
      const route = routeOf(req);
      const version = /^\/v(\d+)\//.exec(route)?.[1] ?? 'none';
      const status = res.writableFinished ? res.statusCode : 499;
      metrics.httpRequest(req.method, route, version, status, (performance.now() - started) / 1000);
    });
    done();
  };
}
