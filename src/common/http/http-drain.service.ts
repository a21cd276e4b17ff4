import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';

/**
 * Graceful drain. On SIGTERM (Nest's shutdown hooks), in order:
 * 1. at once: every response carries `Connection: close`, so keep-alive clients move to other pods, and
 *    readiness answers 503 (Terminus) while SHUTDOWN_DELAY_MS lets load balancers notice;
 * 2. then the server stops accepting connections, closes idle ones, and waits for the requests in progress,
 *    queued ones included (the models are released only after that, in onApplicationShutdown);
 * 3. connections still open SHUTDOWN_TIMEOUT_MS later are closed, so a stuck client cannot hold the pod, and the
 *    process exits 0.
 */
@Injectable()
export class HttpDrain implements OnModuleDestroy {
  private readonly logger = new Logger(HttpDrain.name);
  private readonly sockets = new Set<Socket>();
  private readonly responses = new Set<ServerResponse>();
  private draining = false;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Tracks the server's connections (for the final forced close). */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Called as each request arrives: counts it until its response closes; while draining, asks to close. */
  track(res: ServerResponse): void {
    this.responses.add(res);
    res.once('close', () => this.responses.delete(res));
    if (this.draining) {
      res.setHeader('Connection', 'close');
    }
  }

  onModuleDestroy(): void {
    this.draining = true;
    // Requests already in progress close their connection too: otherwise a keep-alive client could send its
    // next request on a connection the server is about to close.
    for (const res of this.responses) {
      if (!res.headersSent) {
        res.setHeader('Connection', 'close');
      }
    }
    const { delayMs, timeoutMs } = this.config.shutdown;
    this.logger.log({ msg: 'draining', requestsInProgress: this.responses.size, delayMs, timeoutMs });
    setTimeout(() => this.forceClose(), delayMs + timeoutMs).unref();
  }

  private forceClose(): void {
    if (this.sockets.size === 0) {
      return;
    }
    this.logger.warn({
      msg: 'drain timeout: closing the remaining connections',
      connections: this.sockets.size,
      requestsInProgress: this.responses.size,
    });
    for (const socket of this.sockets) {
      socket.destroy();
    }
  }
}
