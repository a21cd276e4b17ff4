export * from './errors/index.js';
export * from './filters/global-exception.filter.js';
export * from './http/json-content-type.middleware.js';
export * from './logging/logging.module.js';
export * from './logging/request-id.js';
