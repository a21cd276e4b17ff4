import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { RegisteredStrategy } from '../inference/index.js';

/** Terminus indicator over an inference strategy's own state (loaded and warmed up by a real inference). */
@Injectable()
export class InferenceHealthIndicator {
  constructor(private readonly health: HealthIndicatorService) {}

  check({ key, strategy }: RegisteredStrategy): HealthIndicatorResult {
    const indicator = this.health.check(key);
    const state = strategy.state();
    switch (state.status) {
      case 'ready': {
        const { name, version, backend } = strategy.model;
        return indicator.up({ model: name, version, backend });
      }
      case 'loading':
        return indicator.down({ state: 'loading' });
      case 'failed':
        return indicator.down({ state: 'failed', reason: state.reason });
      default: {
        const exhaustive: never = state;
        return exhaustive;
      }
    }
  }
}
