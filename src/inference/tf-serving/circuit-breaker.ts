import { Logger } from '@nestjs/common';
import CircuitBreakerImpl from 'opossum';
import { CircuitOpenError, DeadlineExceededError, RequestAbortedError } from '../../errors/index.js';

export interface CircuitBreakerOptions {
  /** Calls a rolling 10 s window must hold before the breaker may open; 0 = no breaker (every call goes through). */
  readonly minCalls: number;
  /** Share of failed calls in the window (percent) that opens the breaker. */
  readonly errorPercent: number;
  /** How long the breaker stays open before one trial call may go through (ms). */
  readonly resetMs: number;
}

export type CircuitState = 'closed' | 'open' | 'half_open' | 'disabled';

/** The caller's own deadline or disconnect says nothing about the backend's health. */
function isCallersFault(error: unknown): boolean {
  return error instanceof RequestAbortedError || error instanceof DeadlineExceededError;
}

/**
 * A circuit breaker (opossum) in front of a remote backend: when too many calls fail, further calls fail at once
 * with `CircuitOpenError` (503 + Retry-After) instead of waiting on a backend that is down; after `resetMs` one
 * trial call probes it, and its success closes the breaker again.
 */
export class CircuitBreaker {
  private readonly logger = new Logger(CircuitBreaker.name);
  private readonly breaker: CircuitBreakerImpl<[() => Promise<unknown>], unknown> | null;
  private readonly listeners: ((state: CircuitState) => void)[] = [];

  constructor(
    readonly upstream: string,
    readonly options: CircuitBreakerOptions,
  ) {
    if (options.minCalls === 0) {
      this.breaker = null;
      return;
    }
    this.breaker = new CircuitBreakerImpl((action: () => Promise<unknown>) => action(), {
      // The client has its own deadline; the breaker only counts outcomes.
      timeout: false,
      errorThresholdPercentage: options.errorPercent,
      volumeThreshold: options.minCalls,
      resetTimeout: options.resetMs,
      rollingCountTimeout: 10_000,
      rollingCountBuckets: 10,
      errorFilter: isCallersFault,
    });
    const changed = () => {
      const state = this.state;
      this.logger.warn({ msg: 'circuit breaker state', upstream, state });
      this.listeners.forEach((listener) => listener(state));
    };
    this.breaker.on('open', changed);
    this.breaker.on('halfOpen', changed);
    this.breaker.on('close', changed);
  }

  get state(): CircuitState {
    if (this.breaker === null) {
      return 'disabled';
    }
    return this.breaker.opened ? 'open' : this.breaker.halfOpen ? 'half_open' : 'closed';
  }

  /** Calls `listener` on every state change. */
  onStateChange(listener: (state: CircuitState) => void): void {
    this.listeners.push(listener);
  }

  async call<T>(action: () => Promise<T>): Promise<T> {
    if (this.breaker === null) {
      return action();
    }
    try {
      return (await this.breaker.fire(action)) as T;
    } catch (error) {
      if (CircuitBreakerImpl.isOurError(error as Error)) {
        throw new CircuitOpenError(this.upstream, Math.max(1, Math.ceil(this.options.resetMs / 1000)));
      }
      throw error;
    }
  }

  shutdown(): void {
    this.breaker?.shutdown();
  }
}
