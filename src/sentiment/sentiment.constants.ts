/** `SentimentService` over the ONNX Runtime strategy (v1). */
export const SENTIMENT_V1 = 'SENTIMENT:V1_SERVICE';
