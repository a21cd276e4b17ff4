export * from './sentence-limits.validator.js';
export * from './sentiment-request.dto.js';
export * from './sentiment-response.dto.js';
export * from './sentiment-request.precheck.js';
