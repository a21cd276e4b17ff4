import { Inject, Injectable } from '@nestjs/common';
import {
  Validate,
  type ValidationArguments,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';

/** Length in Unicode code points (what a user calls characters; an emoji counts once). */
export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0xd800 || code > 0xdbff || i + 1 >= text.length) {
      n++;
    } else {
      const next = text.charCodeAt(i + 1);
      n++;
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
      }
    }
  }
  return n;
}

/** MAX_SENTENCE_LENGTH, read from the validated configuration (class-validator resolves this through Nest's DI). */
@ValidatorConstraint({ name: 'maxSentenceLength' })
@Injectable()
export class MaxSentenceLengthConstraint implements ValidatorConstraintInterface {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  validate(value: unknown): boolean {
    return typeof value !== 'string' || codePointLength(value) <= this.config.limits.maxSentenceLength;
  }

  defaultMessage(args: ValidationArguments): string {
    const each = Array.isArray(args.object[args.property as keyof object]) ? 'each of ' : '';
    return `${each}${args.property} must be at most ${this.config.limits.maxSentenceLength} characters long`;
  }
}

/** MAX_BATCH_SIZE, from the validated configuration. */
@ValidatorConstraint({ name: 'maxBatchSize' })
@Injectable()
export class MaxBatchSizeConstraint implements ValidatorConstraintInterface {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  validate(value: unknown): boolean {
    return !Array.isArray(value) || value.length <= this.config.limits.maxBatchSize;
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must contain at most ${this.config.limits.maxBatchSize} sentences`;
  }
}

export const MaxSentenceLength = (options?: { each: boolean }) => Validate(MaxSentenceLengthConstraint, options);
export const MaxBatchSize = () => Validate(MaxBatchSizeConstraint);

/** Constraints that read configuration; provided by Nest, handed to class-validator by configureApp. */
export const CONFIGURED_CONSTRAINTS = [MaxSentenceLengthConstraint, MaxBatchSizeConstraint] as const;
