import { BadRequestException, UnsupportedMediaTypeException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import { MESSAGES } from '../errors/index.js';

/** Deepest JSON nesting accepted: the request DTOs are flat, and deep nesting only costs stack and time. */
export const MAX_JSON_DEPTH = 32;

/** Whether `value` nests objects/arrays deeper than `maxDepth`; iterative, so any depth is safe to check. */
function deeperThan(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node === 'object' && node !== null) {
      if (depth > maxDepth) {
        return true;
      }
      for (const child of Object.values(node)) {
        stack.push([child, depth + 1]);
      }
    }
  }
  return false;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** `application/json` or `application/<anything>+json`, parameters (charset) allowed. */
export const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/** A charset parameter other than UTF-8 (JSON is UTF-8, RFC 8259). */
const OTHER_CHARSET = /;\s*charset\s*=\s*(?!"?utf-?8"?\s*(?:;|$))/i;

/**
 * A Fastify preValidation hook: checks a request and its parsed JSON body before Nest validates it:
 * - a POST/PUT/PATCH that does not say its body is JSON (in UTF-8) → 415 (with a body of another type Fastify has already
 *   answered 415; this catches the ones with no body or no Content-Type), not a confusing validation error;
 * - nested deeper than MAX_JSON_DEPTH → 400 (class-transformer recurses, and 10,000 levels overflow its stack);
 * - an object key named like a member of Object.prototype (`toString`, `constructor`, `__proto__`, ...) → 400:
 *   class-transformer drops such keys silently, so the unknown-field check would never see them, and no request
 *   field has such a name.
 */
export function checkJsonBody(req: FastifyRequest, _reply: unknown, done: (error?: Error) => void): void {
  const type = req.headers['content-type'];
  if (BODY_METHODS.has(req.method) && (type === undefined || !JSON_MEDIA_TYPE.test(type) || OTHER_CHARSET.test(type))) {
    done(new UnsupportedMediaTypeException(MESSAGES.UNSUPPORTED_MEDIA_TYPE(type)));
    return;
  }
  const body: unknown = req.body;
  if (body !== undefined && (typeof body !== 'object' || body === null)) {
    // Only an object or an array is a request (as Express's strict JSON parser had it).
    done(new BadRequestException(MESSAGES.MALFORMED_JSON));
    return;
  }
  if (deeperThan(body, MAX_JSON_DEPTH)) {
    done(new BadRequestException(MESSAGES.JSON_TOO_DEEP(MAX_JSON_DEPTH)));
    return;
  }
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const key = Object.keys(body).find((name) => name === '__proto__' || name in Object.prototype);
    if (key !== undefined) {
      done(new BadRequestException(MESSAGES.PROPERTY_FORBIDDEN(key)));
      return;
    }
  }
  done();
}

/**
 * Fastify's clientErrorHandler. Requests Node's HTTP parser rejects (bad request line, header overflow,
 * conflicting Content-Length) never reach the app, nor does a request not received in full within
 * `receiveTimeoutMs` (Node's request timeout: 408); they get the same JSON error shape as everything else.
 */
export function answerClientErrorAsJson(
  receiveTimeoutMs: number,
): (error: NodeJS.ErrnoException, socket: Socket) => void {
  return (error, socket) => {
    // As Node's own handler: no second answer where the app has already begun one on this connection.
    const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (error.code === 'ECONNRESET' || !socket.writable || answering === true) {
      socket.destroy();
      return;
    }
    const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : timedOut ? 408 : 400;
    const message = timedOut ? MESSAGES.RECEIVE_TIMEOUT(receiveTimeoutMs) : MESSAGES.MALFORMED_HTTP;
    endWithJson(socket, status, message);
  };
}

function endWithJson(socket: Socket, status: number, message: string): void {
  const body = JSON.stringify({ statusCode: status, error: STATUS_CODES[status], message, requestId: '' });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
