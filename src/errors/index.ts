export * from './domain.errors.js';
export * from './messages.constant.js';
export * from './global-exception.filter.js';
