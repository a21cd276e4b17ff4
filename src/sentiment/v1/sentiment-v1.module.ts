import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import {
  InferenceRegistry,
  onnxThreading,
  withBatching,
  type InferenceStrategy,
  ONNX_INFERENCE,
  OnnxInferenceModule,
} from '../../inference/index.js';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { type BertTokenizer, MODEL_BUNDLE, type ModelBundle, TOKENIZER } from '../../model/index.js';
import { SENTIMENT_V1 } from '../sentiment.constants.js';
import { createSentimentController } from '../sentiment.controller.factory.js';
import { SentimentService } from '../sentiment.service.js';

/** v1: `POST /v1/inference/sentiment_analysis`, answered in-process by ONNX Runtime. */
@Module({
  imports: [OnnxInferenceModule],
  controllers: [
    createSentimentController({ version: '1', service: SENTIMENT_V1, backend: 'ONNX Runtime, in-process' }),
  ],
  providers: [
    {
      provide: SENTIMENT_V1,
      useFactory: (strategy: InferenceStrategy, tokenizer: BertTokenizer, bundle: ModelBundle, config: AppConfig) =>
        new SentimentService(
          withBatching(strategy, config.batching, config.batching.concurrencyV1 || onnxThreading(config).parallelism),
          tokenizer,
          bundle.config.labels,
        ),
      inject: [ONNX_INFERENCE, TOKENIZER, MODEL_BUNDLE, APP_CONFIG],
    },
  ],
})
export class SentimentV1Module implements OnModuleInit {
  constructor(
    private readonly registry: InferenceRegistry,
    @Inject(ONNX_INFERENCE) private readonly strategy: InferenceStrategy,
  ) {}

  onModuleInit(): void {
    this.registry.register({ key: 'v1_onnxruntime', strategy: this.strategy, gatesReadiness: true });
  }
}
