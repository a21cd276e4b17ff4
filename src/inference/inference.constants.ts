/** v1: ONNX Runtime in-process (`InferenceStrategy`). */
export const ONNX_INFERENCE = 'INFERENCE:ONNX';
