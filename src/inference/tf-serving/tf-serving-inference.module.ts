import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { MODEL_BUNDLE, type ModelBundle, ModelModule } from '../../model/index.js';
import { TF_SERVING_INFERENCE } from '../inference.constants.js';
import { MetricsModule } from '../../metrics/metrics.module.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { TF_SERVING, TfServingClient } from './tf-serving.client.js';
import { TfServingStrategy } from './tf-serving.strategy.js';

@Module({
  imports: [ModelModule, MetricsModule],
  providers: [
    {
      provide: TfServingClient,
      useFactory: ({ tfServing }: AppConfig) =>
        new TfServingClient({
          url: tfServing.url,
          modelName: tfServing.modelName,
          version: tfServing.version,
          label: tfServing.label,
          timeoutMs: tfServing.timeoutMs,
          retries: tfServing.retries,
          connectTimeoutMs: tfServing.connectTimeoutMs,
        }),
      inject: [APP_CONFIG],
    },
    {
      provide: TfServingStrategy,
      useFactory: (client: TfServingClient, { tfServing }: AppConfig, bundle: ModelBundle, metrics: MetricsService) => {
        const breaker = new CircuitBreaker(TF_SERVING, tfServing.circuit);
        metrics.watchCircuit(breaker);
        return new TfServingStrategy(
          client,
          {
            signature: tfServing.signature,
            numLabels: bundle.config.labels.length,
            statusIntervalMs: tfServing.statusIntervalMs,
            onUpstreamError: (kind) => metrics.upstreamError(TF_SERVING, kind),
          },
          breaker,
        );
      },
      inject: [TfServingClient, APP_CONFIG, MODEL_BUNDLE, MetricsService],
    },
    { provide: TF_SERVING_INFERENCE, useExisting: TfServingStrategy },
  ],
  exports: [TF_SERVING_INFERENCE, TfServingStrategy],
})
export class TfServingInferenceModule {}
