import { BadRequestException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
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

/**
 * Checks a parsed JSON body before validation:
 * - nested deeper than MAX_JSON_DEPTH → 400 (class-transformer recurses, and 10,000 levels overflow its stack);
 * - an object key named like a member of Object.prototype (`toString`, `constructor`, `__proto__`, ...) → 400:
 *   class-transformer drops such keys silently, so the unknown-field check would never see them, and no request
 *   field has such a name.
 */
export function checkJsonBody(req: Request, _res: Response, next: NextFunction): void {
  const body: unknown = req.body;
  if (deeperThan(body, MAX_JSON_DEPTH)) {
    next(new BadRequestException(MESSAGES.JSON_TOO_DEEP(MAX_JSON_DEPTH)));
    return;
  }
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const key = Object.keys(body).find((name) => name === '__proto__' || name in Object.prototype);
    if (key !== undefined) {
      next(new BadRequestException(MESSAGES.PROPERTY_FORBIDDEN(key)));
      return;
    }
  }
  next();
}

/**
 * Requests Node's HTTP parser rejects (bad request line, header overflow, conflicting Content-Length) never reach
 * the app; without this they get a bare status line. They get the same JSON error shape as everything else.
 */
export function answerClientErrorsAsJson(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = JSON.stringify({
      statusCode: status,
      error: STATUS_CODES[status],
      message: MESSAGES.MALFORMED_HTTP,
      requestId: '',
    });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
