export * from './domain.errors.js';
export * from './messages.constant.js';
