import { MESSAGES } from './messages.constant.js';

/** Base of the service's own failures; the global exception filter maps each kind to one HTTP status. */
export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
}

export type DomainErrorKind =
  | 'model_not_ready'
  | 'invalid_input'
  | 'upstream_unavailable'
  | 'upstream_timeout'
  | 'upstream_failed'
  | 'overloaded'
  | 'aborted'
  | 'deadline_exceeded';

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

/** What a remote backend (TensorFlow Serving) did wrong, for logs and metrics. */
export type UpstreamFailure =
  'unreachable' | 'unavailable' | 'timeout' | 'http_error' | 'bad_response' | 'circuit_open';

/** The remote backend cannot be reached, or says it is unavailable. → 503 + Retry-After */
export class UpstreamUnavailableError extends DomainError {
  readonly kind = 'upstream_unavailable';
  override readonly name = 'UpstreamUnavailableError';
  readonly retryAfterSeconds = 1;
  constructor(
    readonly upstream: string,
    readonly failure: UpstreamFailure,
    detail: string,
  ) {
    super(MESSAGES.UPSTREAM_UNAVAILABLE(upstream, detail));
  }
}

/** The remote backend did not answer in time. → 504 */
export class UpstreamTimeoutError extends DomainError {
  readonly kind = 'upstream_timeout';
  override readonly name = 'UpstreamTimeoutError';
  readonly failure: UpstreamFailure = 'timeout';
  constructor(
    readonly upstream: string,
    readonly timeoutMs: number,
  ) {
    super(MESSAGES.UPSTREAM_TIMEOUT(upstream, timeoutMs));
  }
}

/** The remote backend answered with an error, or with something that is not a valid answer. → 502 */
export class UpstreamFailedError extends DomainError {
  readonly kind = 'upstream_failed';
  override readonly name = 'UpstreamFailedError';
  constructor(
    readonly upstream: string,
    readonly failure: UpstreamFailure,
    /** The upstream's HTTP status, when it answered. */
    readonly upstreamStatus: number | undefined,
    detail: string,
  ) {
    super(MESSAGES.UPSTREAM_FAILED(upstream, upstreamStatus, detail));
  }
}

/** The inference queue is full: the caller should back off and retry. → 429 + Retry-After */
export class QueueFullError extends DomainError {
  readonly kind = 'overloaded';
  override readonly name = 'QueueFullError';
  readonly retryAfterSeconds = 1;
  constructor(
    readonly queued: number,
    readonly limit: number,
  ) {
    super(MESSAGES.QUEUE_FULL(queued, limit));
  }
}

/** The caller went away before its request reached the model; nobody reads the answer. → 499 */
export class RequestAbortedError extends DomainError {
  readonly kind = 'aborted';
  override readonly name = 'RequestAbortedError';
  constructor() {
    super(MESSAGES.REQUEST_ABORTED);
  }
}

/** The request's deadline (REQUEST_TIMEOUT_MS or X-Request-Timeout-Ms) passed before it was answered. → 504 */
export class DeadlineExceededError extends DomainError {
  readonly kind = 'deadline_exceeded';
  override readonly name = 'DeadlineExceededError';
  constructor(readonly timeoutMs: number) {
    super(MESSAGES.DEADLINE_EXCEEDED(timeoutMs));
  }
}

/** Too many inference requests in progress for this API version. → 429 + Retry-After */
export class TooManyInFlightError extends DomainError {
  readonly kind = 'overloaded';
  override readonly name = 'TooManyInFlightError';
  readonly retryAfterSeconds = 1;
  constructor(readonly limit: number) {
    super(MESSAGES.TOO_MANY_IN_FLIGHT(limit));
  }
}

/** The circuit breaker in front of a remote backend is open: failing fast instead of waiting on it. → 503 */
export class CircuitOpenError extends DomainError {
  readonly kind = 'upstream_unavailable';
  override readonly name = 'CircuitOpenError';
  readonly failure: UpstreamFailure = 'circuit_open';
  constructor(
    readonly upstream: string,
    readonly retryAfterSeconds: number,
  ) {
    super(MESSAGES.CIRCUIT_OPEN(upstream, retryAfterSeconds));
  }
}
