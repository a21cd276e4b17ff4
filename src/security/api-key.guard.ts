import { type CanActivate, type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { MESSAGES } from '../errors/index.js';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { AUTH_SCOPE, type AuthScope } from './auth-scope.decorator.js';

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/** The key a request carries: `Authorization: Bearer <key>`, or `X-API-Key: <key>`. */
function presentedKey(req: FastifyRequest): string | undefined {
  const authorization = req.headers.authorization;
  const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
  const header = req.headers['x-api-key'];
  return bearer ?? (typeof header === 'string' && header.length > 0 ? header : undefined);
}

/**
 * API-key authentication, on when API_KEYS or API_KEYS_FILE holds keys. Keys are compared as SHA-256 digests
 * with `timingSafeEqual`, against every configured key without stopping early, so neither the time taken nor
 * the key's length tells an attacker how close a guess was.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly digests: readonly Buffer[];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly reflector: Reflector,
  ) {
    this.digests = config.security.apiKeys.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.digests.length === 0) {
      return true;
    }
    const scope = this.reflector.getAllAndOverride<AuthScope | undefined>(AUTH_SCOPE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (scope === 'public' || (scope === 'metrics' && !this.config.security.metricsRequireApiKey)) {
      return true;
    }
    const http = context.switchToHttp();
    const key = presentedKey(http.getRequest<FastifyRequest>());
    const res = http.getResponse<FastifyReply>();
    if (key === undefined) {
      res.header('WWW-Authenticate', 'Bearer');
      throw new UnauthorizedException(MESSAGES.API_KEY_REQUIRED);
    }
    const presented = digest(key);
    let match = false;
    for (const known of this.digests) {
      match = timingSafeEqual(presented, known) || match;
    }
    if (!match) {
      res.header('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new UnauthorizedException(MESSAGES.API_KEY_INVALID);
    }
    return true;
  }
}
