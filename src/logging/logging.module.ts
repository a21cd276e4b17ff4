import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { httpLogOptions } from './request-logging.js';

/**
 * Structured JSON logs (pino) on stdout through Nest's Logger. The per-request line comes from pino-http run as a
 * Fastify hook (request-logging.ts, registered by configureApp), so nestjs-pino's own middleware is mounted on no
 * route.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({ forRoutes: [], pinoHttp: httpLogOptions(config) }),
    }),
  ],
})
export class LoggingModule {}
