import { type CanActivate, type ExecutionContext, HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { MESSAGES } from '../errors/index.js';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { RATE_LIMIT_EXEMPT } from './auth-scope.decorator.js';

/**
 * Per-client rate limit on the inference routes (rate-limiter-flexible, in memory: per replica), keyed by the
 * client IP (behind proxies: TRUST_PROXY_HOPS). Off when RATE_LIMIT is 0; health probes and /metrics are never
 * limited (`@NotRateLimited()`). Over the limit → 429 with Retry-After and the RateLimit-* headers.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly limiter: RateLimiterMemory | null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly reflector: Reflector,
  ) {
    const { limit, windowMs } = config.security.rateLimit;
    this.limiter =
      limit > 0 ? new RateLimiterMemory({ points: limit, duration: Math.max(1, Math.ceil(windowMs / 1000)) }) : null;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const exempt = this.reflector.getAllAndOverride<boolean | undefined>(RATE_LIMIT_EXEMPT, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (this.limiter === null || exempt === true) {
      return true;
    }
    const http = context.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const res = http.getResponse<FastifyReply>();
    const limit = this.config.security.rateLimit.limit;
    try {
      const state = await this.limiter.consume(req.ip);
      res.header('RateLimit-Limit', String(limit));
      res.header('RateLimit-Remaining', String(state.remainingPoints));
      res.header('RateLimit-Reset', String(Math.ceil(state.msBeforeNext / 1000)));
      return true;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) {
        throw error;
      }
      const seconds = String(Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
      res.header('Retry-After', seconds);
      res.header('RateLimit-Limit', String(limit));
      res.header('RateLimit-Remaining', '0');
      res.header('RateLimit-Reset', seconds);
      throw new HttpException(MESSAGES.RATE_LIMITED, HttpStatus.TOO_MANY_REQUESTS);
    }
  }
}
