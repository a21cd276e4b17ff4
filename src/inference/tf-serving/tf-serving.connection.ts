import type { Agent as HttpAgent } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

// Connections to TensorFlow Serving: a budget for opening one, and the failures after which a call may be retried.

/** The error code of a connection that did not open within its budget. */
export const CONNECT_TIMEOUT = 'ECONNECT_TIMEOUT';

/** Destroys `socket` with CONNECT_TIMEOUT unless it connects within `ms`: covers the DNS lookup and the TCP handshake. */
function limitConnect(socket: Duplex, ms: number): void {
  const net = socket as Socket;
  if (!net.connecting) {
    return;
  }
  const timer = setTimeout(
    () => net.destroy(Object.assign(new Error(`no connection within ${ms} ms`), { code: CONNECT_TIMEOUT })),
    ms,
  );
  const clear = () => clearTimeout(timer);
  net.once('connect', clear).once('close', clear);
}

/**
 * `agent`, whose new connections must open within `ms` (a stopped host whose name no longer resolves, or resolves
 * slowly, then fails fast instead of using up the call's whole budget).
 */
export function withConnectTimeout<A extends HttpAgent>(agent: A, ms: number): A {
  const create = agent.createConnection.bind(agent);
  agent.createConnection = (...args) => {
    const socket = create(...args);
    if (socket) {
      limitConnect(socket, ms);
    }
    return socket;
  };
  return agent;
}

/** Socket-level failures where the request never got an answer: safe to retry an idempotent predict. */
export const CONNECTION_FAILURES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  CONNECT_TIMEOUT,
]);
