import type { AppConfig } from '../../config/index.js';
import type { Precheck } from '../../http/prechecked-validation.pipe.js';
import { NOT_BLANK, SentimentBatchRequestDto, SentimentRequestDto } from './sentiment-request.dto.js';

/** A JSON object with exactly one own key, `key` (what whitelisting and forbidNonWhitelisted leave alone). */
function onlyKey(value: unknown, key: string): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) {
    return false;
  }
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === key;
}

/**
 * The request DTOs' common case, checked without class-validator (PrecheckedValidationPipe): a body that is exactly
 * `{"sentence": ...}` or `{"sentences": [...]}` with valid sentences. UTF-16 length within MAX_SENTENCE_LENGTH is
 * enough (a sentence has at most as many code points as UTF-16 units); a longer one, or anything else, is left to
 * the decorators in sentiment-request.dto.ts. sentiment-request.precheck.spec.ts checks on a generated corpus that
 * these accept nothing the decorators refuse.
 */
export function sentimentRequestPrechecks({ limits }: AppConfig): Map<abstract new () => object, Precheck> {
  const sentence = (text: unknown) =>
    typeof text === 'string' && text.length <= limits.maxSentenceLength && NOT_BLANK.test(text);
  return new Map<abstract new () => object, Precheck>([
    [SentimentRequestDto, (value) => onlyKey(value, 'sentence') && sentence(value.sentence)],
    [
      SentimentBatchRequestDto,
      (value) => {
        if (!onlyKey(value, 'sentences')) {
          return false;
        }
        const { sentences } = value;
        return (
          Array.isArray(sentences) &&
          sentences.length > 0 &&
          sentences.length <= limits.maxBatchSize &&
          sentences.every(sentence)
        );
      },
    ],
  ]);
}
