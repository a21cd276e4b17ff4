import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { RegisteredStrategy } from '../inference/index.js';

/**
 * Terminus indicator over an inference strategy: up when its model is loaded and warmed up (v1), or when the
 * remote backend has an AVAILABLE version (v2; asked at probe time: TF Serving answers 200 while a model is
 * still loading, so a plain ping would lie).
 */
@Injectable()
export class InferenceHealthIndicator {
  constructor(private readonly health: HealthIndicatorService) {}

  async check({ key, strategy }: RegisteredStrategy): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    const state = await strategy.checkHealth();
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
