import { MESSAGES } from './messages.constant.js';

/** Base of the service's own failures; the global exception filter maps each kind to one HTTP status. */
export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
}

export type DomainErrorKind =
  'model_not_ready' | 'invalid_input' | 'upstream_unavailable' | 'upstream_timeout' | 'upstream_failed';

/** The model is still loading or warming up, or failed to load. → 503 + Retry-After */
export class ModelNotReadyError extends DomainError {
  readonly kind = 'model_not_ready';
  override readonly name = 'ModelNotReadyError';
  constructor(
    readonly modelName: string,
    readonly retryAfterSeconds = 1,
  ) {
    super(MESSAGES.MODEL_NOT_READY(modelName));
  }
}

/** Input that passed DTO validation but that the model cannot take. → 400 */
export class InvalidInputError extends DomainError {
  readonly kind = 'invalid_input';
  override readonly name = 'InvalidInputError';
}
