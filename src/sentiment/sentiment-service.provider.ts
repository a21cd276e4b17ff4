import type { FactoryProvider } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { type InferenceStrategy, withBatching } from '../inference/index.js';
import { MetricsService } from '../metrics/index.js';
import { type BertTokenizer, MODEL_BUNDLE, type ModelBundle, TOKENIZER } from '../model/index.js';
import { SentimentService } from './sentiment.service.js';

export interface SentimentServiceProviderOptions {
  /** Injection token of the `SentimentService` (SENTIMENT_V1, ...). */
  readonly provide: string;
  /** API version, for metrics labels. */
  readonly version: string;
  /** Injection token of the strategy behind it. */
  readonly strategy: string;
  /** Model calls in flight at once when batching. */
  readonly concurrency: (config: AppConfig, bundle: ModelBundle) => number;
}

/**
 * One API version's request path, assembled the same way for every version: strategy → observed model calls →
 * dynamic batching (if on) → SentimentService (in-flight limit, deadlines), all reported to /metrics.
 */
export function sentimentServiceProvider(options: SentimentServiceProviderOptions): FactoryProvider<SentimentService> {
  return {
    provide: options.provide,
    useFactory: (
      strategy: InferenceStrategy,
      tokenizer: BertTokenizer,
      bundle: ModelBundle,
      config: AppConfig,
      metrics: MetricsService,
    ) => {
      const observer = metrics.observeApi(options.version);
      const service = new SentimentService(
        withBatching(strategy, config.batching, options.concurrency(config, bundle), observer),
        tokenizer,
        bundle.config.labels,
        { maxInFlight: config.requests.maxInFlight, observer },
      );
      metrics.watchApi(options.version, service);
      return service;
    },
    inject: [options.strategy, TOKENIZER, MODEL_BUNDLE, APP_CONFIG, MetricsService],
  };
}
