/** `SentimentService` over the ONNX Runtime strategy (v1). */
export const SENTIMENT_V1 = 'SENTIMENT:V1_SERVICE';
/** `SentimentService` over the TensorFlow Serving strategy (v2). */
export const SENTIMENT_V2 = 'SENTIMENT:V2_SERVICE';
