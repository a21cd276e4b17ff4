import { Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { GlobalExceptionFilter } from './errors/index.js';
import { HttpDrainModule, PrecheckedValidationPipe } from './http/index.js';
import { LoggingModule } from './logging/index.js';
import { MetricsModule } from './metrics/index.js';
import { SecurityModule } from './security/index.js';
import { APP_CONFIG, AppConfigModule, type AppConfig } from './config/index.js';
import { HealthModule } from './health/index.js';
import { InferenceCoreModule } from './inference/index.js';
import { ModelModule } from './model/index.js';
import {
  CONFIGURED_CONSTRAINTS,
  SentimentV1Module,
  SentimentV2Module,
  sentimentRequestPrechecks,
} from './sentiment/index.js';

@Module({})
export class AppModule {
  /** The whole service; `config` replaces the environment (tests). */
  static forRoot(config?: AppConfig) {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        LoggingModule,
        HttpDrainModule,
        MetricsModule,
        SecurityModule,
        ModelModule,
        InferenceCoreModule,
        HealthModule,
        SentimentV1Module,
        SentimentV2Module,
      ],
      providers: [
        ...CONFIGURED_CONSTRAINTS,
        { provide: APP_FILTER, useClass: GlobalExceptionFilter },
        {
          provide: APP_PIPE,
          inject: [APP_CONFIG],
          useFactory: (appConfig: AppConfig) =>
            new PrecheckedValidationPipe(
              {
                whitelist: true,
                forbidNonWhitelisted: true,
                transform: true,
                forbidUnknownValues: true,
                stopAtFirstError: false,
              },
              sentimentRequestPrechecks(appConfig),
            ),
        },
      ],
    };
  }
}
