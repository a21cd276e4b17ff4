import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class SentimentResponseDto {
  @ApiProperty({ description: "Label from the model's config.json id2label.", example: 'NEGATIVE' })
  sentiment!: string;

  @ApiProperty({ description: 'Softmax probability of that label, 0.5–1 for two labels.', example: 0.9705 })
  confidence!: number;
}

export class SentimentBatchResponseDto {
  @ApiProperty({ type: [SentimentResponseDto], description: 'One result per input sentence, in input order.' })
  predictions!: SentimentResponseDto[];
}

export class ModelMetadataDto {
  @ApiProperty({ example: 'sentiment_analysis' })
  name!: string;

  @ApiProperty({ example: '1' })
  version!: string;

  @ApiProperty({ enum: ['onnxruntime', 'tf-serving'], example: 'onnxruntime' })
  backend!: string;

  @ApiProperty({
    enum: ['fp32', 'int8'],
    example: 'fp32',
    description: 'Weights it computes with: model.onnx (fp32) or model.int8.onnx (int8, v1 with ONNX_PRECISION=int8).',
  })
  precision!: string;

  @ApiProperty({ example: ['NEGATIVE', 'POSITIVE'] })
  labels!: string[];

  @ApiProperty({
    description: 'Model inputs fed, in order.',
    example: ['input_ids', 'attention_mask', 'token_type_ids'],
  })
  inputs!: string[];

  @ApiProperty({ description: 'Longest input in tokens; longer inputs are truncated.', example: 128 })
  maxTokens!: number;

  @ApiProperty({ description: 'Longest accepted sentence in characters.', example: 2000 })
  maxSentenceLength!: number;

  @ApiProperty({ description: 'Most sentences per batch request.', example: 64 })
  maxBatchSize!: number;
}

export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({ description: 'HTTP reason phrase.', example: 'Bad Request' })
  error!: string;

  @ApiProperty({
    description: 'What is wrong, in one sentence.',
    example: 'sentence must not be empty or only whitespace',
  })
  message!: string;

  @ApiPropertyOptional({ description: 'Every validation failure, when there are several.', type: [String] })
  details?: string[];

  @ApiProperty({ description: 'The request id (also in the X-Request-Id header).', example: '0f6c7e1e-…' })
  requestId!: string;
}
