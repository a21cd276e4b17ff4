/**
 * TensorFlow Serving's REST API, as far as v2 uses it (../shared/reference/tf-serving-and-savedmodel.md §1).
 * Answers are validated with these schemas before use; unknown fields are kept out of the way, not rejected.
 */
import { z } from 'zod';

/** `POST /v1/models/{name}[/versions/{v}|/labels/{l}]:predict`, columnar ("inputs") format. */
export interface TfServingPredictRequest {
  readonly signature_name: string;
  /** One batched tensor per signature input, `[batch, sequence]`. */
  readonly inputs: Readonly<Record<string, readonly (readonly number[])[]>>;
}

/** Columnar answer: the whole output tensor (one output) or one tensor per output alias. */
export const predictResponseSchema = z.object({ outputs: z.unknown() });
export type TfServingPredictResponse = z.infer<typeof predictResponseSchema>;

/** `GET /v1/models/{name}[/versions/{v}]`. `version` is an int64, so a JSON string; states are enum names. */
export const modelStatusSchema = z.object({
  model_version_status: z.array(
    z.object({
      version: z.string(),
      state: z.enum(['UNKNOWN', 'START', 'LOADING', 'AVAILABLE', 'UNLOADING', 'END']),
      status: z.object({ error_code: z.string().optional(), error_message: z.string().optional() }).optional(),
    }),
  ),
});
export type TfServingModelStatus = z.infer<typeof modelStatusSchema>;

const tensorInfoSchema = z.object({
  dtype: z.string().optional(),
  name: z.string().optional(),
  tensor_shape: z
    .object({
      dim: z.array(z.object({ size: z.string().optional() })).optional(),
      unknown_rank: z.boolean().optional(),
    })
    .optional(),
});

/** `GET /v1/models/{name}[...]/metadata`: the model spec TF Serving resolved, and the signatures. */
export const modelMetadataSchema = z.object({
  model_spec: z.object({ name: z.string(), version: z.string().optional(), signature_name: z.string().optional() }),
  metadata: z.object({
    signature_def: z.object({
      signature_def: z.record(
        z.string(),
        z.object({
          inputs: z.record(z.string(), tensorInfoSchema).optional(),
          outputs: z.record(z.string(), tensorInfoSchema).optional(),
          method_name: z.string().optional(),
        }),
      ),
    }),
  }),
});
export type TfServingModelMetadata = z.infer<typeof modelMetadataSchema>;

/** Every TF Serving error body: `{"error": "<message>"}`. */
export const errorBodySchema = z.object({ error: z.string() });
