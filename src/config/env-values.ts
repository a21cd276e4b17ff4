import { readFileSync } from 'node:fs';
import { z } from 'zod';

// The kinds of value an environment variable holds, as zod schemas of its text.

/** A number from a variable's text ("abc" is "expected a number", not zod's "received NaN"). */
export const numeric = () => z.coerce.number({ error: 'expected a number' });
export const integer = (min: number, max: number) => numeric().int('expected a whole number').min(min).max(max);
export const bool = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');
/** A comma-separated list, trimmed, without empty entries. */
export const list = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);
/** Text matching `pattern`; empty or unset = undefined. */
export const optionalMatch = (pattern: RegExp, message: string) =>
  z
    .string()
    .regex(pattern, message)
    .optional()
    .or(z.literal('').transform(() => undefined));

/** Shortest accepted API key: 16 random characters are beyond guessing at any request rate. */
export const MIN_API_KEY_LENGTH = 16;
export const keysLongEnough = (keys: readonly string[]) => keys.every((key) => key.length >= MIN_API_KEY_LENGTH);
export const SHORT_KEY = `every key must have at least ${MIN_API_KEY_LENGTH} characters`;

/** One key per line of a file (blank lines and # comments ignored); a file that cannot be read is a config error. */
export const keyFile = z
  .string()
  .default('')
  .transform((path, ctx) => {
    if (!path) {
      return [];
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? 'error'}` });
      return z.NEVER;
    }
    const keys = text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line.length > 0 && !line.startsWith('#'));
    if (keys.length === 0 || !keysLongEnough(keys)) {
      ctx.addIssue({ code: 'custom', message: keys.length === 0 ? 'no keys in the file' : SHORT_KEY });
    }
    return keys;
  });
