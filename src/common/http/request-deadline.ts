import { BadRequestException } from '@nestjs/common';
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

const arrivals = new WeakMap<IncomingMessage, number>();

/** Records when a request arrived (its headers were read), so that its deadline counts from then. */
export function markArrival(req: IncomingMessage): void {
  arrivals.set(req, performance.now());
}

/**
 * A signal that aborts when the request's deadline passes (reason: DeadlineExceededError) or when the client goes
 * away before its answer is written (reason: RequestAbortedError). The deadline counts from the request's arrival
 * (`markArrival`): time spent receiving its body and waiting behind other work is part of it. Its timer ends with
 * the response.
 */
export function requestSignal(req: IncomingMessage, res: ServerResponse, maxMs: number): AbortSignal {
  const timeoutMs = requestTimeoutMs(req, maxMs);
  const controller = new AbortController();
  const arrived = arrivals.get(req) ?? performance.now();
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
