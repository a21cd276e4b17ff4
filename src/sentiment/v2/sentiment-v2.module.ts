import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import {
  InferenceRegistry,
  withBatching,
  type InferenceStrategy,
  TF_SERVING_INFERENCE,
  TfServingInferenceModule,
} from '../../inference/index.js';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { type BertTokenizer, MODEL_BUNDLE, type ModelBundle, TOKENIZER } from '../../model/index.js';
import { SENTIMENT_V2 } from '../sentiment.constants.js';
import { createSentimentController } from '../sentiment.controller.factory.js';
import { SentimentService } from '../sentiment.service.js';

/**
 * v2: `POST /v2/inference/sentiment_analysis`, answered by TensorFlow Serving. Same contract and tokenizer as
 * v1; TF Serving's state shows on /health/dependencies and never pulls this pod out of service.
 */
@Module({
  imports: [TfServingInferenceModule],
  controllers: [
    createSentimentController({ version: '2', service: SENTIMENT_V2, backend: 'TensorFlow Serving', remote: true }),
  ],
  providers: [
    {
      provide: SENTIMENT_V2,
      useFactory: (strategy: InferenceStrategy, tokenizer: BertTokenizer, bundle: ModelBundle, config: AppConfig) =>
        new SentimentService(
          withBatching(strategy, config.batching, config.batching.concurrencyV2),
          tokenizer,
          bundle.config.labels,
        ),
      inject: [TF_SERVING_INFERENCE, TOKENIZER, MODEL_BUNDLE, APP_CONFIG],
    },
  ],
})
export class SentimentV2Module implements OnModuleInit {
  constructor(
    private readonly registry: InferenceRegistry,
    @Inject(TF_SERVING_INFERENCE) private readonly strategy: InferenceStrategy,
  ) {}

  onModuleInit(): void {
    this.registry.register({ key: 'v2_tf_serving', strategy: this.strategy, gatesReadiness: false });
  }
}
