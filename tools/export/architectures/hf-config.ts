/**
 * What the architectures' `config.json` parsers share: zod field types, the label count as transformers derives it,
 * and one error format (`<config path>: not a supported <Model> config: <field>: <problem>; ...`).
 */
import { z } from 'zod';

export const positiveInt = z.number().int().positive();

/** `id2label` and `num_labels`, as every sequence-classification config carries them. */
export const labelFields = {
  id2label: z.record(z.string(), z.string()).optional(),
  num_labels: positiveInt.optional(),
};

/** transformers: `num_labels = len(id2label)`, default 2; the classifier weight shape is checked against it. */
export function numLabels(config: {
  readonly id2label?: Record<string, string>;
  readonly num_labels?: number;
}): number {
  return config.id2label ? Object.keys(config.id2label).length : (config.num_labels ?? 2);
}

/** Validates `json` against `schema`; `source` (the file path) and `model` (e.g. `BERT`) name every error. */
export function parseHfConfig<T>(schema: z.ZodType<T>, json: unknown, source: string, model: string): T {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new Error(`${source}: not a supported ${model} config: ${issues.join('; ')}`);
  }
  return parsed.data;
}
