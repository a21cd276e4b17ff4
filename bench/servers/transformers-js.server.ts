/**
 * Peer: what a Node developer would write instead of this service. A minimal node:http server around a
 * transformers.js (@huggingface/transformers) `text-classification` pipeline over the same model files, loaded
 * from disk (fp32 model.onnx, the same tokenizer.json; MODEL_DTYPE=q8 loads onnx/model_quantized.onnx instead),
 * answering the same contract. No validation, no batching.
 */
import { pipeline, env } from '@huggingface/transformers';
import { createServer } from 'node:http';

const modelDir = process.env.MODEL_PATH;
if (!modelDir) {
  throw new Error('MODEL_PATH (a transformers.js model folder) is required');
}
env.allowRemoteModels = false;
env.allowLocalModels = true;
const dtype = process.env.MODEL_DTYPE === 'q8' ? 'q8' : 'fp32';
const classify = await pipeline('text-classification', modelDir, { dtype, device: 'cpu' });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const { sentence } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { sentence: string };
    classify(sentence).then(
      (output) => {
        const [top] = output as { label: string; score: number }[];
        res
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ sentiment: top?.label, confidence: top?.score }));
      },
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
});
server.listen(Number(process.env.PORT ?? 5102), '127.0.0.1', () => console.log('ready'));
// Exits cleanly on SIGTERM (how the benchmarks stop it), so that `node --cpu-prof` writes its profile.
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
