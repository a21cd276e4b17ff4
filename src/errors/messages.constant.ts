/** Error texts in one place, as functions of what varies. */
export const MESSAGES = {
  MODEL_NOT_READY: (model: string) => `model "${model}" is not ready yet; retry shortly`,
  ROUTE_NOT_FOUND: (method: string, path: string) => `no route ${method} ${path}`,
  MALFORMED_JSON: 'the request body is not valid JSON',
  INVALID_UTF8: 'the request body is not valid UTF-8',
  JSON_TOO_DEEP: (depth: number) => `the request body is nested deeper than ${depth} levels`,
  PROPERTY_FORBIDDEN: (key: string) => `property ${key} should not exist`,
  MALFORMED_HTTP: 'the request is not valid HTTP/1.1',
  RECEIVE_TIMEOUT: (ms: number) =>
    `the request was not received in full within ${ms} ms (RECEIVE_TIMEOUT_MS); the connection is closed`,
  MALFORMED_URL: 'the request URL is not valid (a percent-encoding that does not decode)',
  BODY_TOO_LARGE: (limit: string) => `the request body is larger than the ${limit} limit`,
  UNSUPPORTED_MEDIA_TYPE: (got: string | undefined) =>
    `Content-Type must be application/json${got ? `, got ${got}` : ' (none was sent)'}`,
  INTERNAL: 'internal server error',
  QUEUE_FULL: (queued: number, limit: number) =>
    `the server is at capacity (${queued} sentences queued, limit ${limit}); retry after the Retry-After delay`,
  REQUEST_ABORTED: 'the client closed the request before it was answered',
  DEADLINE_EXCEEDED: (ms: number) => `the request was not answered within its ${ms} ms deadline`,
  TOO_MANY_IN_FLIGHT: (limit: number) =>
    `the server is at capacity (${limit} requests in progress); retry after the Retry-After delay`,
  CIRCUIT_OPEN: (upstream: string, seconds: number) =>
    `${upstream} is failing; calls are suspended for up to ${seconds} s (circuit breaker open)`,
  BAD_TIMEOUT_HEADER: (value: string) =>
    `X-Request-Timeout-Ms must be a whole number of milliseconds of at least 1, got ${JSON.stringify(value.slice(0, 40))}`,
  API_KEY_REQUIRED: 'an API key is required: send it as "Authorization: Bearer <key>" or "X-API-Key: <key>"',
  API_KEY_INVALID: 'the API key is not valid',
  RATE_LIMITED: 'too many requests from this client; retry after the Retry-After delay',
  UPSTREAM_UNAVAILABLE: (upstream: string, detail: string) => `${upstream} is unavailable: ${detail}`,
  UPSTREAM_TIMEOUT: (upstream: string, ms: number) => `${upstream} did not answer within ${ms} ms`,
  UPSTREAM_FAILED: (upstream: string, status: number | undefined, detail: string) =>
    status === undefined
      ? `${upstream} gave an invalid answer: ${detail}`
      : `${upstream} answered ${status}: ${detail}`,
} as const;
