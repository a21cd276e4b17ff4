/** Error texts in one place, as functions of what varies. */
export const MESSAGES = {
  MODEL_NOT_READY: (model: string) => `model "${model}" is not ready yet; retry shortly`,
  ROUTE_NOT_FOUND: (method: string, path: string) => `no route ${method} ${path}`,
  MALFORMED_JSON: 'the request body is not valid JSON',
  BODY_TOO_LARGE: (limit: string) => `the request body is larger than the ${limit} limit`,
  UNSUPPORTED_MEDIA_TYPE: (got: string | undefined) =>
    `Content-Type must be application/json${got ? `, got ${got}` : ' (none was sent)'}`,
  INTERNAL: 'internal server error',
  QUEUE_FULL: (queued: number, limit: number) =>
    `the server is at capacity (${queued} sentences queued, limit ${limit}); retry after the Retry-After delay`,
  REQUEST_ABORTED: 'the client closed the request before it was answered',
  UPSTREAM_UNAVAILABLE: (upstream: string, detail: string) => `${upstream} is unavailable: ${detail}`,
  UPSTREAM_TIMEOUT: (upstream: string, ms: number) => `${upstream} did not answer within ${ms} ms`,
  UPSTREAM_FAILED: (upstream: string, status: number | undefined, detail: string) =>
    status === undefined
      ? `${upstream} gave an invalid answer: ${detail}`
      : `${upstream} answered ${status}: ${detail}`,
} as const;
