/** v1: ONNX Runtime in-process (`InferenceStrategy`). */
export const ONNX_INFERENCE = 'INFERENCE:ONNX';
/** v2: TensorFlow Serving over REST (`InferenceStrategy`). */
export const TF_SERVING_INFERENCE = 'INFERENCE:TF_SERVING';
