import { STATUS_CODES } from 'node:http';
import { ApiHeader, ApiResponse } from '@nestjs/swagger';
import { MESSAGES } from '../errors/index.js';
import { ErrorResponseDto } from './dto/sentiment-response.dto.js';

/** Headers of every answer the model gave (200). */
export const MODEL_HEADERS = {
  'X-Model-Name': { description: 'Model that answered', schema: { type: 'string', example: 'sentiment_analysis' } },
  'X-Model-Version': { description: 'Its version', schema: { type: 'string', example: '1' } },
  'X-Inference-Backend': {
    description: 'onnxruntime (v1) or tf-serving (v2)',
    schema: { type: 'string', enum: ['onnxruntime', 'tf-serving'] },
  },
  'X-Model-Precision': {
    description: 'Weights that answered: fp32, or int8 (v1 with ONNX_PRECISION=int8)',
    schema: { type: 'string', enum: ['fp32', 'int8'] },
  },
  'X-Request-Id': { description: 'Request id (echoed, or generated)', schema: { type: 'string' } },
  'X-Truncated-Count': {
    description: 'How many sentences were cut to the model maximum token count',
    schema: { type: 'integer', minimum: 0 },
  },
};

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } },
};

const REQUEST_ID_EXAMPLE = '0f6c7e1e-5b1d-4c1a-9a53-3f1b0c2d4e5f';

/** An error response of `status`, with an example answer of that status (its reason phrase and a real message). */
function errorResponse(status: number, description: string, message: string, retryAfter = false): MethodDecorator {
  return ApiResponse({
    status,
    type: ErrorResponseDto,
    description,
    example: { statusCode: status, error: STATUS_CODES[status], message, requestId: REQUEST_ID_EXAMPLE },
    ...(retryAfter ? { headers: RETRY_AFTER } : {}),
  });
}

/** 503: the version's model is not ready (loading, warming up or unavailable). */
export function notReadyResponse(backend: string, model: string): MethodDecorator {
  return errorResponse(
    503,
    `The ${backend} model is not ready (loading, warming up or unavailable); see Retry-After.`,
    MESSAGES.MODEL_NOT_READY(model),
    true,
  );
}

/** The key check of the API-key guard: on every route of a version, when API_KEYS is set. */
export const unauthorizedResponse = errorResponse(
  401,
  'API keys are configured and none, or a wrong one, was sent.',
  MESSAGES.API_KEY_REQUIRED,
);

/** Every error answer of the inference routes, each with its own example. */
export function inferenceErrorResponses(backend: string, model: string, remote: boolean): MethodDecorator[] {
  return [
    ...(remote
      ? [
          errorResponse(
            502,
            'The backend answered an error (its text in message) or an invalid answer.',
            MESSAGES.UPSTREAM_FAILED('TensorFlow Serving', 400, 'In[0] should be a scalar'),
          ),
        ]
      : []),
    errorResponse(
      504,
      'Not answered within the deadline (REQUEST_TIMEOUT_MS, or X-Request-Timeout-Ms if shorter).',
      MESSAGES.DEADLINE_EXCEEDED(10_000),
    ),
    ApiHeader({
      name: 'X-Request-Timeout-Ms',
      required: false,
      description: 'Shortens the deadline of this request (milliseconds); REQUEST_TIMEOUT_MS is the most.',
    }),
    unauthorizedResponse,
    errorResponse(
      429,
      'At capacity (queue or in-flight limit) or over the rate limit; see Retry-After.',
      MESSAGES.TOO_MANY_IN_FLIGHT(512),
      true,
    ),
    errorResponse(
      400,
      'Invalid body: missing, empty or non-string sentence, unknown field, malformed JSON, too long.',
      'sentence must not be empty or only whitespace',
    ),
    errorResponse(413, 'Body larger than BODY_LIMIT.', MESSAGES.BODY_TOO_LARGE('1mb')),
    errorResponse(
      408,
      'The request (headers and body) was not received in full within RECEIVE_TIMEOUT_MS; the connection is closed.',
      MESSAGES.RECEIVE_TIMEOUT(10_000),
    ),
    errorResponse(415, 'Content-Type is not application/json.', MESSAGES.UNSUPPORTED_MEDIA_TYPE('text/plain')),
    notReadyResponse(backend, model),
  ];
}
