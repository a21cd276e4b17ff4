export * from './logging.module.js';
export * from './request-id.js';
export * from './request-logging.js';
