export * from './auth-scope.decorator.js';
export * from './api-key.guard.js';
export * from './rate-limit.guard.js';
export * from './security.module.js';
export * from './http-security.js';
