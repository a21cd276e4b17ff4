import {
  applyDecorators,
  Body,
  type CanActivate,
  type ExecutionContext,
  Get,
  HttpCode,
  Inject,
  Injectable,
  Post,
  Res,
  type Type,
  UseGuards,
} from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequestSignal } from '../http/index.js';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import type { ServedModel } from '../inference/index.js';
import { SentimentBatchRequestDto, SentimentRequestDto } from './dto/sentiment-request.dto.js';
import { ModelMetadataDto, SentimentBatchResponseDto, SentimentResponseDto } from './dto/sentiment-response.dto.js';
import { inferenceErrorResponses, MODEL_HEADERS, notReadyResponse, unauthorizedResponse } from './sentiment.openapi.js';
import type { SentimentService } from './sentiment.service.js';

export interface SentimentControllerOptions {
  /** Injection token of this version's `SentimentService`. */
  readonly service: string;
  /** One line for the docs: which runtime answers. */
  readonly backend: string;
  /** The runtime is a remote server: document its 502/504 answers too. */
  readonly remote?: boolean;
}

export const SENTIMENT_ROUTE = 'inference/sentiment_analysis';

/** The model name the documentation's examples show (the bundled model's). */
const MODEL_EXAMPLE = 'sentiment_analysis';

function setModelHeaders(res: FastifyReply, model: ServedModel, truncated: number): void {
  res.header('X-Model-Name', model.name);
  res.header('X-Model-Version', model.version);
  res.header('X-Inference-Backend', model.backend);
  res.header('X-Model-Precision', model.precision);
  res.header('X-Truncated-Count', String(truncated));
}

/**
 * Admission before validation: guards run before pipes, so a request the service could not take now (in-flight
 * limit, full queue) is refused with its 429 before class-validator checks up to 64 × MAX_SENTENCE_LENGTH characters
 * and before the sentences are tokenized. The body is already parsed JSON; only its `sentences` count is read.
 */
function admissionGuard(serviceToken: string): Type<CanActivate> {
  @Injectable()
  class AdmissionGuard implements CanActivate {
    constructor(@Inject(serviceToken) private readonly service: SentimentService) {}

    canActivate(context: ExecutionContext): boolean {
      const body = context.switchToHttp().getRequest<FastifyRequest>().body as { sentences?: unknown } | undefined;
      this.service.checkAdmission(Array.isArray(body?.sentences) ? Math.max(1, body.sentences.length) : 1);
      return true;
    }
  }
  return AdmissionGuard;
}

/**
 * The sentiment routes of one API version, as a base class: each version declares its controller as a subclass
 * with its own `@Controller({ path: SENTIMENT_ROUTE, version })` (src/sentiment/v1, v2). Every version has the same
 * contract; only the `SentimentService` behind it (and so the runtime) differs, so adding a version never touches
 * another.
 */
export function sentimentController(options: SentimentControllerOptions): Type<object> {
  const admission = admissionGuard(options.service);
  const errors = inferenceErrorResponses(options.backend, MODEL_EXAMPLE, options.remote ?? false);

  class SentimentController {
    constructor(
      @Inject(options.service) readonly service: SentimentService,
      @Inject(APP_CONFIG) readonly config: AppConfig,
    ) {}

    @Post()
    @HttpCode(200)
    @UseGuards(admission)
    @ApiOperation({
      summary: `Classify one sentence (${options.backend})`,
      description: 'The original service contract: `{"sentence": ...}` → `{"sentiment": ..., "confidence": ...}`.',
    })
    @ApiBody({ type: SentimentRequestDto })
    @ApiOkResponse({
      type: SentimentResponseDto,
      headers: MODEL_HEADERS,
      description: 'The label of the sentence and its probability.',
    })
    @applyDecorators(...errors)
    async classify(
      @Body() body: SentimentRequestDto,
      @RequestSignal() signal: AbortSignal,
      @Res({ passthrough: true }) res: FastifyReply,
    ): Promise<SentimentResponseDto> {
      const { predictions, model, truncated } = await this.service.classify([body.sentence], signal);
      setModelHeaders(res, model, truncated.filter(Boolean).length);
      const [prediction] = predictions;
      return { sentiment: prediction!.label, confidence: prediction!.confidence };
    }

    @Post('batch')
    @HttpCode(200)
    @UseGuards(admission)
    @ApiOperation({
      summary: `Classify several sentences in one call (${options.backend})`,
      description: '`{"sentences": [...]}` → `{"predictions": [...]}`, one result per sentence in input order.',
    })
    @ApiBody({ type: SentimentBatchRequestDto })
    @ApiOkResponse({
      type: SentimentBatchResponseDto,
      headers: MODEL_HEADERS,
      description: 'One label and probability per sentence, in input order.',
    })
    @applyDecorators(...errors)
    async classifyBatch(
      @Body() body: SentimentBatchRequestDto,
      @RequestSignal() signal: AbortSignal,
      @Res({ passthrough: true }) res: FastifyReply,
    ): Promise<SentimentBatchResponseDto> {
      const { predictions, model, truncated } = await this.service.classify(body.sentences, signal);
      setModelHeaders(res, model, truncated.filter(Boolean).length);
      return {
        predictions: predictions.map((p, i) => ({
          sentiment: p.label,
          confidence: p.confidence,
          ...(truncated[i] ? { truncated: true } : {}),
        })),
      };
    }

    @Get()
    @ApiOperation({ summary: `Model metadata (${options.backend})` })
    @ApiOkResponse({ type: ModelMetadataDto, description: 'What this version serves, and its limits.' })
    @unauthorizedResponse
    @notReadyResponse(options.backend, MODEL_EXAMPLE)
    metadata(): ModelMetadataDto {
      const model = this.service.served;
      return {
        name: model.name,
        version: model.version,
        backend: model.backend,
        precision: model.precision,
        labels: [...this.service.labelNames],
        inputs: [...model.inputs],
        maxTokens: this.service.maxTokens,
        maxSentenceLength: this.config.limits.maxSentenceLength,
        maxBatchSize: this.config.limits.maxBatchSize,
      };
    }
  }

  return SentimentController;
}
