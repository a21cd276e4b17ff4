import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import pino from 'pino';
import { type HttpLogger, type Options, pinoHttp } from 'pino-http';
import type { AppConfig } from '../config/index.js';
import { requestId } from './request-id.js';

/** pino-http's options: one line per request with its id; health probes are not logged. */
export function httpLogOptions(config: AppConfig): Options {
  return {
    level: config.log.level,
    genReqId: requestId,
    autoLogging: { ignore: (req: IncomingMessage) => req.url?.startsWith('/health') ?? false },
    redact: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'],
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
}

/**
 * Whether the per-request line is written at `level`: pino-http writes it at info (5xx answers included). Above that
 * (LOG_LEVEL=warn, error, fatal, silent) the hook is not registered, as it would build a child logger and attach two
 * listeners per request for a line never written (about 13 µs of a 0.6 ms request: docs/performance.md).
 */
export function logsRequests(level: AppConfig['log']['level']): boolean {
  const value = pino.levels.values[level];
  return value !== undefined && value <= (pino.levels.values.info ?? 30);
}

/**
 * pino-http as a Fastify onRequest hook, on the application's root logger (nestjs-pino's `PinoLogger.root`): the
 * same "request completed" line per request as nestjs-pino's middleware, without running a middleware layer
 * (@fastify/middie, Nest's route matching, an AsyncLocalStorage scope) for every request, which cost about 0.2 ms
 * of CPU per request (docs/benchmarks.md). Logs written while a request runs carry its id themselves (`reqId`).
 */
export function requestLogging(options: Options) {
  let log: HttpLogger | undefined;
  return (req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    // The root logger exists once the application has initialised, before any request.
    log ??= pinoHttp({ ...options, logger: PinoLogger.root });
    log(req.raw, reply.raw);
    done();
  };
}
