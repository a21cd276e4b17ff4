export * from './inference-strategy.interface.js';
export * from './inference.constants.js';
export * from './onnx/onnx-inference.module.js';
export * from './onnx/onnx.strategy.js';
export * from './inference-core.module.js';
export * from './inference.registry.js';
