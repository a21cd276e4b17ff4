export * from './batched.strategy.js';
