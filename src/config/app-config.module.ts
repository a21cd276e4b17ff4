import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, loadConfig } from './app.config.js';

/** Provides the validated `AppConfig` under `APP_CONFIG` to the whole app. */
@Global()
@Module({})
export class AppConfigModule {
  /** From the process environment (the default), or from a given config (tests). */
  static forRoot(config?: AppConfig): DynamicModule {
    return {
      module: AppConfigModule,
      providers: [{ provide: APP_CONFIG, useFactory: () => config ?? loadConfig(process.env) }],
      exports: [APP_CONFIG],
    };
  }
}
