import { SetMetadata } from '@nestjs/common';

export const AUTH_SCOPE = 'auth:scope';

/**
 * Who may call a controller's routes when API keys are configured: `public` (health probes: never a key),
 * `metrics` (a key only with METRICS_REQUIRE_API_KEY). Routes without a scope need a key: new routes are
 * protected unless they say otherwise.
 */
export type AuthScope = 'public' | 'metrics';

export const Auth = (scope: AuthScope) => SetMetadata(AUTH_SCOPE, scope);

export const RATE_LIMIT_EXEMPT = 'rate-limit:exempt';

/** Routes RATE_LIMIT never counts (health probes, /metrics); every other route is limited. Separate from `Auth`. */
export const NotRateLimited = () => SetMetadata(RATE_LIMIT_EXEMPT, true);
