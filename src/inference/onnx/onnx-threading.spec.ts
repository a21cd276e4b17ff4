import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/index.js';
import { ModelMemoryError, onnxThreading, planOnnxExecution } from './onnx-threading.js';

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

describe(planOnnxExecution.name, () => {
  const MiB = 2 ** 20;
  let dir: string;
  let bertBase: string;
  let small: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'onnx-plan-'));
    // Sparse files of the sizes that matter: a BERT-base-shaped model.onnx and the bundled model's.
    bertBase = join(dir, 'bert-base.onnx');
    small = join(dir, 'small.onnx');
    writeFileSync(bertBase, '');
    truncateSync(bertBase, 363 * MiB);
    writeFileSync(small, '');
    truncateSync(small, 23 * MiB);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should keep the CPU plan where there is no memory limit, or enough', () => {
    expect(planOnnxExecution(loadConfig({}), bertBase, 2, null)).toMatchObject({
      workers: 2,
      intraOpThreads: 1,
      memoryLimitBytes: null,
      modelBytes: 363 * MiB,
    });
    // The bundled model with two workers under the chart's and k8s/'s 512Mi.
    const plan = planOnnxExecution(loadConfig({}), small, 2, 512 * MiB);
    expect(plan).toMatchObject({ workers: 2, intraOpThreads: 1 });
    expect(plan).not.toHaveProperty('reducedFor');
    expect(plan.estimatedBytes).toBeLessThan(0.9 * 512 * MiB);
  });

  it('should run fewer sessions, each with more threads, when one per CPU would not fit', () => {
    const plan = planOnnxExecution(loadConfig({}), bertBase, 2, 2048 * MiB);
    expect(plan).toMatchObject({ workers: 1, intraOpThreads: 2, parallelism: 1, reducedFor: 'memory' });
    expect(plan.estimatedBytes).toBeLessThan(0.9 * 2048 * MiB);
    expect(planOnnxExecution(loadConfig({}), bertBase, 8, 2560 * MiB)).toMatchObject({
      workers: 2,
      intraOpThreads: 4,
    });
  });

  it('should refuse, in one line with what it needs, a model that does not fit with one session', () => {
    const refusal = () => planOnnxExecution(loadConfig({}), bertBase, 2, 512 * MiB);
    expect(refusal).toThrow(ModelMemoryError);
    expect(refusal).toThrow(
      /bert-base\.onnx needs about 1221 MiB of memory with one ONNX Runtime session \(300 MiB \+ 2\.2 × model\.onnx \(363 MiB\) per session, at 90% of the limit\), but the container's memory limit is 512 MiB/,
    );
    expect(() => refusal()).not.toThrow(/\n/);
    expect(() => planOnnxExecution(loadConfig({ ONNX_EXECUTION: 'inline' }), bertBase, 2, 512 * MiB)).toThrow(
      ModelMemoryError,
    );
  });

  it('should refuse an explicit ONNX_WORKERS that does not fit rather than silently run fewer', () => {
    expect(() => planOnnxExecution(loadConfig({ ONNX_WORKERS: '2' }), bertBase, 2, 2048 * MiB)).toThrow(
      /ONNX_WORKERS=2 needs about 2108 MiB .* memory limit is 2048 MiB: lower ONNX_WORKERS/,
    );
  });
});
