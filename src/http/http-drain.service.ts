import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { APP_CONFIG, type AppConfig } from '../config/index.js';

/**
 * Graceful drain. On SIGTERM (Nest's shutdown hooks), in order:
 * 1. at once: every response carries `Connection: close`, so keep-alive clients move to other pods, and
 *    readiness answers 503 (Terminus) while SHUTDOWN_DELAY_MS lets load balancers notice;
 * 2. requests already sent on open connections are let in first: the drain waits until no request has arrived for
 *    QUIET_MS (at most SETTLE_MAX_MS). Node's `server.close()` closes the connections it sees as idle, and one whose
 *    request it has not read yet looks idle: without the wait, a request sent before the signal could get a reset
 *    (200 connections that had each sent one: 31–126 resets);
 * 3. then the server stops accepting connections, closes idle ones, and waits for the requests in progress,
 *    queued ones included (the models are released only after that, in onApplicationShutdown);
 * 4. connections still open SHUTDOWN_TIMEOUT_MS later are closed, so a stuck client cannot hold the pod, and the
 *    process exits 0.
 */
const QUIET_MS = 50;
const SETTLE_MAX_MS = 1000;

@Injectable()
export class HttpDrain implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(HttpDrain.name);
  /**
   * Each open connection and the responses in progress on it. Kept per connection so that a connection's death
   * releases them all at once: responses queued behind an unanswered one on a pipelining connection never emit
   * `close` of their own when the socket dies (a client sending thousands and reading none grew the process by
   * hundreds of MB).
   */
  private readonly connections = new Map<Socket, Set<ServerResponse>>();
  private draining = false;
  private lastArrival = 0;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Tracks the server's connections (for the final forced close, and the requests in progress on each). */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.connections.set(socket, new Set());
      socket.once('close', () => this.connections.delete(socket));
    });
  }

  /** Requests in progress on the open connections. */
  get requestsInProgress(): number {
    let count = 0;
    for (const responses of this.connections.values()) {
      count += responses.size;
    }
    return count;
  }

  /** Called as each request arrives: counts it until its response or its connection closes; while draining, asks to close. */
  track(req: IncomingMessage, res: ServerResponse): void {
    this.lastArrival = performance.now();
    const responses = this.connections.get(req.socket);
    if (responses !== undefined) {
      responses.add(res);
      res.once('close', () => responses.delete(res));
    }
    if (this.draining) {
      res.setHeader('Connection', 'close');
    }
  }

  onModuleDestroy(): void {
    this.draining = true;
    // Requests already in progress close their connection too: otherwise a keep-alive client could send its
    // next request on a connection the server is about to close.
    for (const responses of this.connections.values()) {
      for (const res of responses) {
        if (!res.headersSent) {
          res.setHeader('Connection', 'close');
        }
      }
    }
    const { delayMs, timeoutMs } = this.config.shutdown;
    this.logger.log({ msg: 'draining', requestsInProgress: this.requestsInProgress, delayMs, timeoutMs });
    setTimeout(() => this.forceClose(), delayMs + timeoutMs).unref();
  }

  /**
   * Runs after Terminus' own hook (its module is deeper, and Nest calls the deepest first), so readiness is already
   * 503 and SHUTDOWN_DELAY_MS has passed; the quiet wait then ends right before the server closes.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.settle();
  }

  /** Resolves once no request has arrived for QUIET_MS (and at least QUIET_MS from now), or after SETTLE_MAX_MS. */
  private async settle(): Promise<void> {
    const started = performance.now();
    const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));
    await sleep(QUIET_MS);
    while (performance.now() - this.lastArrival < QUIET_MS && performance.now() - started < SETTLE_MAX_MS) {
      await sleep(QUIET_MS / 5);
    }
  }

  private forceClose(): void {
    if (this.connections.size === 0) {
      return;
    }
    this.logger.warn({
      msg: 'drain timeout: closing the remaining connections',
      connections: this.connections.size,
      requestsInProgress: this.requestsInProgress,
    });
    for (const socket of this.connections.keys()) {
      socket.destroy();
    }
  }
}
