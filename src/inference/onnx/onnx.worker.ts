/**
 * A worker thread that owns one ONNX Runtime session. onnxruntime-node runs a session synchronously on the
 * calling thread, so in the main thread every inference would block the event loop (HTTP, tokenization, timers);
 * in a worker it does not, and several workers run several batches at once.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { OnnxSession, type OnnxSessionOptions } from './onnx-session.js';
import type { WorkerReply, WorkerRequest } from './onnx-worker.protocol.js';

const { modelPath, options } = workerData as {
  modelPath: string;
  options: OnnxSessionOptions;
};
const port = parentPort;
if (port === null) {
  throw new Error('onnx.worker must run in a worker thread');
}
const reply = (message: WorkerReply) => port.postMessage(message);

try {
  const session = await OnnxSession.create(modelPath, options);
  const running = new Set<Promise<void>>();
  port.on('message', (request: WorkerRequest) => {
    if (request.type === 'close') {
      // Finish the runs in progress, release the session, then let the thread end by itself: a worker terminated
      // while ONNX Runtime still holds its session can abort the whole process on the way out (a C++ exception in
      // the binding's cleanup, "terminate called after throwing an instance of 'Napi::Error'").
      void Promise.allSettled(running)
        .then(() => session.release())
        .finally(() => port.close());
      return;
    }
    const run = session.run(request.batch).then(
      (logits) =>
        reply({ type: 'result', id: request.id, data: logits.data, rows: logits.rows, columns: logits.columns }),
      (error: unknown) => reply({ type: 'error', id: request.id, message: (error as Error).message }),
    );
    running.add(run);
    void run.finally(() => running.delete(run));
  });
  reply({ type: 'ready', inputNames: session.inputNames, numLabels: session.numLabels });
} catch (error) {
  reply({ type: 'failed', message: (error as Error).message });
}
