import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { InferenceCoreModule } from '../inference/index.js';
import { HealthController } from './health.controller.js';
import { InferenceHealthIndicator } from './inference.health.js';

@Module({
  imports: [
    InferenceCoreModule,
    TerminusModule.forRootAsync({
      useFactory: (config: AppConfig) => ({
        errorLogStyle: 'json',
        gracefulShutdownTimeoutMs: config.shutdown.delayMs,
      }),
      inject: [APP_CONFIG],
    }),
  ],
  controllers: [HealthController],
  providers: [InferenceHealthIndicator],
})
export class HealthModule {}
