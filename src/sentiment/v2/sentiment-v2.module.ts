import { Controller, Inject, Module, type OnModuleInit } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  InferenceCoreModule,
  InferenceRegistry,
  type InferenceStrategy,
  TF_SERVING_INFERENCE,
  TfServingInferenceModule,
} from '../../inference/index.js';
import { MetricsModule } from '../../metrics/index.js';
import { ModelModule } from '../../model/index.js';
import { SENTIMENT_V2 } from '../sentiment.constants.js';
import { SENTIMENT_ROUTE, sentimentController } from '../sentiment.controller.factory.js';
import { sentimentServiceProvider } from '../sentiment-service.provider.js';

/** `/v2/inference/sentiment_analysis`: the sentiment contract, answered by TensorFlow Serving over its REST API. */
@ApiTags('v2')
@Controller({ path: SENTIMENT_ROUTE, version: '2' })
export class SentimentV2Controller extends sentimentController({
  service: SENTIMENT_V2,
  backend: 'TensorFlow Serving',
  remote: true,
}) {}

/**
 * v2: `POST /v2/inference/sentiment_analysis`, answered by TensorFlow Serving. Same contract and tokenizer as
 * v1; TF Serving's state shows on /health/dependencies and never pulls this pod out of service.
 */
@Module({
  imports: [TfServingInferenceModule, InferenceCoreModule, ModelModule, MetricsModule],
  controllers: [SentimentV2Controller],
  providers: [
    sentimentServiceProvider({
      provide: SENTIMENT_V2,
      version: '2',
      strategy: TF_SERVING_INFERENCE,
      concurrency: (config) => config.batching.concurrencyV2,
    }),
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
