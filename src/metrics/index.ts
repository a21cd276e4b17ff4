export * from './http-metrics.hook.js';
export * from './metrics.controller.js';
export * from './metrics.module.js';
export * from './metrics.service.js';
