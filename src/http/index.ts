export * from './http-drain.module.js';
export * from './http-drain.service.js';
export * from './json-body.hooks.js';
export * from './prechecked-validation.pipe.js';
export * from './request-deadline.js';
