import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Accept a caller's request id if it is short and printable (it ends up in logs), else make one. */
const VALID_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/**
 * The request's id: kept if already assigned, else the caller's `X-Request-Id` if valid, else a new UUID. Fastify
 * asks for it as the request arrives (its genReqId option), so every log line and error body, even for a body the
 * parser rejects, carries the same id; the response echoes it in X-Request-Id.
 */
export function requestId(req: IncomingMessage & { id?: unknown }): string {
  if (typeof req.id === 'string') {
    return req.id;
  }
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && VALID_REQUEST_ID.test(given) ? given : randomUUID();
  req.id = id;
  return id;
}
