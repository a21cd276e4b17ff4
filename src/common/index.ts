export * from './errors/index.js';
export * from './filters/global-exception.filter.js';
export * from './logging/logging.module.js';
export * from './logging/request-id.js';
export * from './http/request-deadline.js';
export * from './http/http-drain.service.js';
export * from './http/http-drain.module.js';
export * from './http/json-body.hooks.js';
