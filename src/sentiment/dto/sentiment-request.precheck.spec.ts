import { type ArgumentMetadata, ValidationPipe, type ValidationPipeOptions } from '@nestjs/common';
import { useContainer } from 'class-validator';
import { loadConfig } from '../../config/index.js';
import { PrecheckedValidationPipe } from '../../http/prechecked-validation.pipe.js';
import { MaxBatchSizeConstraint, MaxSentenceLengthConstraint } from './sentence-limits.validator.js';
import { SentimentBatchRequestDto, SentimentRequestDto } from './sentiment-request.dto.js';
import { sentimentRequestPrechecks } from './sentiment-request.precheck.js';

const OPTIONS: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  forbidUnknownValues: true,
  stopAtFirstError: false,
};
const config = loadConfig({ MAX_SENTENCE_LENGTH: '12', MAX_BATCH_SIZE: '3' });

/** Sentences around every rule: types, blank and white space of several kinds, the length limit in UTF-16 and code points. */
const SENTENCES: unknown[] = [
  'good',
  ' ok ',
  'a'.repeat(12),
  'a'.repeat(13),
  '😀'.repeat(6),
  '😀'.repeat(7),
  '😀'.repeat(12),
  '',
  ' ',
  '\t\n',
  '\u00a0',
  '\u2003\u3000',
  '\ufeff',
  '\u200b',
  'x\u0000y',
  '\ud800',
  0,
  1.5,
  true,
  null,
  [],
  ['good'],
  {},
  { sentence: 'good' },
];

function corpus(): unknown[] {
  const bodies: unknown[] = [undefined, null, 'good', 7, [], {}, Object.create(null)];
  for (const sentence of SENTENCES) {
    bodies.push({ sentence });
    bodies.push({ sentence, extra: 1 });
    bodies.push({ sentences: [sentence] });
    bodies.push({ sentences: ['good', sentence] });
    bodies.push({ sentence, sentences: [sentence] });
    bodies.push(Object.assign(Object.create(null) as object, { sentence }));
    bodies.push(Object.assign(Object.create({ inherited: 1 }) as object, { sentence }));
  }
  for (const count of [0, 1, 3, 4]) {
    bodies.push({ sentences: Array.from({ length: count }, (_, i) => `sentence ${i}`) });
  }
  bodies.push(
    { sentences: 'good' },
    { sentences: null },
    { sentences: { 0: 'good', length: 1 } },
    { sentence: undefined },
  );
  return bodies;
}

/** A deep copy in this realm, prototypes kept (structuredClone's objects come from the main realm under jest). */
function clone(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(clone);
  }
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  const copy = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
  for (const [key, item] of Object.entries(value)) {
    copy[key] = clone(item);
  }
  return copy;
}

async function outcome(pipe: ValidationPipe, body: unknown, metadata: ArgumentMetadata) {
  try {
    const value: unknown = await pipe.transform(clone(body), metadata);
    return { value, type: (value as object | null)?.constructor };
  } catch (error) {
    return { error: (error as { getResponse(): unknown }).getResponse() };
  }
}

describe(sentimentRequestPrechecks.name, () => {
  beforeAll(() => {
    const constraints = new Map<unknown, unknown>([
      [MaxSentenceLengthConstraint, new MaxSentenceLengthConstraint(config)],
      [MaxBatchSizeConstraint, new MaxBatchSizeConstraint(config)],
    ]);
    useContainer({ get: (type: unknown) => constraints.get(type) }, { fallback: true, fallbackOnErrors: true });
  });

  it.each([SentimentRequestDto, SentimentBatchRequestDto])(
    'should accept only bodies class-validator accepts unchanged, and the pipe answer as ValidationPipe does (%p)',
    async (dto) => {
      const prechecks = sentimentRequestPrechecks(config);
      const precheck = prechecks.get(dto)!;
      const metadata: ArgumentMetadata = { type: 'body', metatype: dto };
      const full = new ValidationPipe(OPTIONS);
      const fast = new PrecheckedValidationPipe(OPTIONS, prechecks);
      let accepted = 0;
      for (const body of corpus()) {
        const expected = await outcome(full, body, metadata);
        if (precheck(clone(body))) {
          accepted++;
          expect({ body, valid: expected.error === undefined }).toEqual({ body, valid: true });
        }
        expect({ body, outcome: await outcome(fast, body, metadata) }).toEqual({ body, outcome: expected });
      }
      // The fast path is taken for the valid bodies of the corpus, not only allowed.
      expect(accepted).toBeGreaterThanOrEqual(5);
    },
  );
});
