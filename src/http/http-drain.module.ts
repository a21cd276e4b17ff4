import { Global, Module } from '@nestjs/common';
import { HttpDrain } from './http-drain.service.js';

/**
 * Global for one reason: the order of shutdown hooks. HttpDrain's `beforeApplicationShutdown` waits for a quiet moment
 * before the server closes, and must run after Terminus' (which turns readiness 503 and waits SHUTDOWN_DELAY_MS). Nest
 * calls global modules' hooks last; as a plain module its hook ran first, and readiness turned 503 a second late
 * (test/drain.e2e-spec.ts).
 */
@Global()
@Module({ providers: [HttpDrain], exports: [HttpDrain] })
export class HttpDrainModule {}
