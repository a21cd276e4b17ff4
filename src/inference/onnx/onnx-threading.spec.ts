import { loadConfig } from '../../config/index.js';
import { onnxThreading } from './onnx-threading.js';

describe(onnxThreading.name, () => {
  it('should default to one worker per usable CPU with one thread each', () => {
    expect(onnxThreading(loadConfig({}), 4)).toEqual({ workers: 4, intraOpThreads: 1, parallelism: 4 });
  });

  it('should share the usable CPUs among fewer workers', () => {
    expect(onnxThreading(loadConfig({ ONNX_WORKERS: '2' }), 8)).toEqual({
      workers: 2,
      intraOpThreads: 4,
      parallelism: 2,
    });
  });

  it('should run inline with every usable CPU as intra-op threads', () => {
    expect(onnxThreading(loadConfig({ ONNX_EXECUTION: 'inline' }), 2)).toEqual({
      workers: 0,
      intraOpThreads: 2,
      parallelism: 1,
    });
  });

  it('should honour explicit thread counts', () => {
    expect(onnxThreading(loadConfig({ ONNX_WORKERS: '3', ONNX_INTRA_OP_THREADS: '2' }), 2)).toEqual({
      workers: 3,
      intraOpThreads: 2,
      parallelism: 3,
    });
  });
});
