import { BadRequestException, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DeadlineExceededError, MESSAGES, RequestAbortedError } from '../errors/index.js';

/** Optional request header that shortens (never lengthens) the request's deadline, in milliseconds. */
export const TIMEOUT_HEADER = 'x-request-timeout-ms';

/**
 * The deadline of one request: `maxMs` (REQUEST_TIMEOUT_MS), or less when the client sends X-Request-Timeout-Ms.
 * A malformed header is a 400, not silently ignored.
 */
export function requestTimeoutMs(req: IncomingMessage, maxMs: number): number {
  const header = req.headers[TIMEOUT_HEADER];
  if (header === undefined) {
    return maxMs;
  }
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!/^\d{1,9}$/.test(value.trim()) || Number(value) < 1) {
    throw new BadRequestException(MESSAGES.BAD_TIMEOUT_HEADER(value));
  }
  return Math.min(Number(value), maxMs);
}

const arrivals = new WeakMap<IncomingMessage, { readonly at: number; readonly maxMs: number }>();

/**
 * Records when a request arrived (its headers were read), so that its deadline counts from then, and the longest
 * deadline it may have (REQUEST_TIMEOUT_MS).
 */
export function markArrival(req: IncomingMessage, maxMs: number): void {
  arrivals.set(req, { at: performance.now(), maxMs });
}

/**
 * A signal that aborts when the request's deadline passes (reason: DeadlineExceededError) or when the client goes
 * away before its answer is written (reason: RequestAbortedError). The deadline counts from the request's arrival
 * (`markArrival`): time spent receiving its body and waiting behind other work is part of it. Its timer ends with
 * the response.
 */
export function requestSignal(req: IncomingMessage, res: ServerResponse, maxMs?: number): AbortSignal {
  const arrival = arrivals.get(req);
  if (maxMs === undefined && arrival === undefined) {
    throw new Error('requestSignal: the request was not marked on arrival, and no deadline was given');
  }
  maxMs ??= arrival!.maxMs;
  const timeoutMs = requestTimeoutMs(req, maxMs);
  const controller = new AbortController();
  const arrived = arrival?.at ?? performance.now();
  const remaining = Math.max(0, timeoutMs - (performance.now() - arrived));
  const timer = setTimeout(() => controller.abort(new DeadlineExceededError(timeoutMs)), remaining);
  timer.unref();
  res.once('close', () => {
    clearTimeout(timer);
    if (!res.writableFinished) {
      controller.abort(new RequestAbortedError());
    }
  });
  return controller.signal;
}

/** The request's signal (`requestSignal`) as a handler parameter: `@RequestSignal() signal: AbortSignal`. */
export const RequestSignal = createParamDecorator((_data: unknown, context: ExecutionContext): AbortSignal => {
  const http = context.switchToHttp();
  return requestSignal(http.getRequest<FastifyRequest>().raw, http.getResponse<FastifyReply>().raw);
});
