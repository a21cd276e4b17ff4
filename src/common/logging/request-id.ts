import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Accept a caller's request id if it is short and printable (it ends up in logs), else make one. */
const VALID_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/**
 * The request's id: kept if already assigned, else the caller's `X-Request-Id` if valid, else a new UUID.
 * Echoed in the response header. Runs first in the middleware chain (before body parsing) so that even a
 * body the parser rejects gets an id.
 */
export function requestId(req: IncomingMessage & { id?: unknown }, res: ServerResponse): string {
  if (typeof req.id === 'string') {
    return req.id;
  }
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && VALID_REQUEST_ID.test(given) ? given : randomUUID();
  req.id = id;
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}
