import { Controller, Inject, Module, type OnModuleInit } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  InferenceCoreModule,
  InferenceRegistry,
  planOnnxExecution,
  type InferenceStrategy,
  ONNX_INFERENCE,
  OnnxInferenceModule,
} from '../../inference/index.js';
import { MetricsModule } from '../../metrics/index.js';
import { onnxFile, ModelModule } from '../../model/index.js';
import { SENTIMENT_V1 } from '../sentiment.constants.js';
import { SENTIMENT_ROUTE, sentimentController } from '../sentiment.controller.factory.js';
import { sentimentServiceProvider } from '../sentiment-service.provider.js';

/** `/v1/inference/sentiment_analysis`: the sentiment contract, answered in-process by ONNX Runtime. */
@ApiTags('v1')
@Controller({ path: SENTIMENT_ROUTE, version: '1' })
export class SentimentV1Controller extends sentimentController({
  service: SENTIMENT_V1,
  backend: 'ONNX Runtime, in-process',
}) {}

/** v1: `POST /v1/inference/sentiment_analysis`, answered in-process by ONNX Runtime. */
@Module({
  imports: [OnnxInferenceModule, InferenceCoreModule, ModelModule, MetricsModule],
  controllers: [SentimentV1Controller],
  providers: [
    sentimentServiceProvider({
      provide: SENTIMENT_V1,
      version: '1',
      strategy: ONNX_INFERENCE,
      concurrency: (config, bundle) =>
        config.batching.concurrencyV1 || planOnnxExecution(config, onnxFile(bundle, config.onnx.precision)).parallelism,
    }),
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
