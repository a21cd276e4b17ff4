import { ApiProperty } from '@nestjs/swagger';
import { ArrayNotEmpty, IsArray, IsString, Matches } from 'class-validator';
import { MaxBatchSize, MaxSentenceLength } from './sentence-limits.validator.js';

/** At least one character that is not white space. */
export const NOT_BLANK = /\S/;

export class SentimentRequestDto {
  @ApiProperty({
    description:
      'Text to classify. Longer than the model takes in tokens, it is truncated (the response header ' +
      '`X-Truncated-Count` counts them); longer than MAX_SENTENCE_LENGTH characters, it is refused with 400.',
    example: 'this is a bad example',
    minLength: 1,
  })
  @IsString()
  @Matches(NOT_BLANK, { message: 'sentence must not be empty or only whitespace' })
  @MaxSentenceLength()
  sentence!: string;
}

export class SentimentBatchRequestDto {
  @ApiProperty({
    description: 'Texts to classify, answered one result per text in the same order (at most MAX_BATCH_SIZE).',
    example: ['this is a bad example', 'this is a great example'],
    type: [String],
    minItems: 1,
  })
  @IsArray()
  @ArrayNotEmpty()
  @MaxBatchSize()
  @IsString({ each: true })
  @Matches(NOT_BLANK, { each: true, message: 'each of sentences must not be empty or only whitespace' })
  @MaxSentenceLength({ each: true })
  sentences!: string[];
}
