export * from './dto/index.js';
export * from './sentiment.constants.js';
export * from './sentiment.controller.factory.js';
export * from './sentiment.service.js';
export * from './v1/sentiment-v1.module.js';
export * from './v2/sentiment-v2.module.js';
