import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { MODEL_BUNDLE, type ModelBundle } from '../../model/index.js';
import { TF_SERVING_INFERENCE } from '../inference.constants.js';
import { TfServingClient } from './tf-serving.client.js';
import { TfServingStrategy } from './tf-serving.strategy.js';

@Module({
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
        }),
      inject: [APP_CONFIG],
    },
    {
      provide: TfServingStrategy,
      useFactory: (client: TfServingClient, { tfServing }: AppConfig, bundle: ModelBundle) =>
        new TfServingStrategy(client, {
          signature: tfServing.signature,
          numLabels: bundle.config.labels.length,
          statusIntervalMs: tfServing.statusIntervalMs,
        }),
      inject: [TfServingClient, APP_CONFIG, MODEL_BUNDLE],
    },
    { provide: TF_SERVING_INFERENCE, useExisting: TfServingStrategy },
  ],
  exports: [TF_SERVING_INFERENCE, TfServingStrategy],
})
export class TfServingInferenceModule {}
