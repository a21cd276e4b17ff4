import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/index.js';
import { LARGE_MODEL_BYTES, ModelMemoryError, onnxThreading, planOnnxExecution } from './onnx-threading.js';

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
  const model: Record<'bertBase' | 'medium' | 'small', string> = { bertBase: '', medium: '', small: '' };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'onnx-plan-'));
    // Sparse files of the sizes that matter: a BERT-base-shaped model.onnx, one just below LARGE_MODEL_BYTES, and
    // the bundled model's.
    for (const [name, mib] of [
      ['bertBase', 363],
      ['medium', 60],
      ['small', 8],
    ] as const) {
      model[name] = join(dir, `${name}.onnx`);
      writeFileSync(model[name], '');
      truncateSync(model[name], mib * MiB);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should run a small model as one single-threaded session per CPU, within the memory limit', () => {
    const plan = planOnnxExecution(loadConfig({}), model.small, 2, 512 * MiB);
    expect(plan).toMatchObject({ workers: 2, intraOpThreads: 1, memoryLimitBytes: 512 * MiB, modelBytes: 8 * MiB });
    expect(plan).not.toHaveProperty('reducedFor');
    // 150 MiB + 2 × (96 MiB + 1.6 × 8 MiB) + the main thread's idle session, 16 MiB + 1.6 × 8 MiB.
    expect(plan).toMatchObject({ idleInline: true, estimatedBytes: Math.round((150 + 2 * 108.8 + 28.8) * MiB) });
    expect(plan.estimatedBytes).toBeLessThan(0.9 * 512 * MiB);
    expect(planOnnxExecution(loadConfig({}), model.small, 2, null)).toMatchObject({ workers: 2, intraOpThreads: 1 });
  });

  it('should run a large model as one session with every CPU as intra-op threads (one copy of the weights)', () => {
    expect(LARGE_MODEL_BYTES).toBeGreaterThan(60 * MiB);
    expect(planOnnxExecution(loadConfig({}), model.bertBase, 2, null)).toMatchObject({
      workers: 1,
      intraOpThreads: 2,
      parallelism: 1,
    });
    expect(planOnnxExecution(loadConfig({}), model.bertBase, 8, 1024 * MiB)).toMatchObject({
      workers: 1,
      intraOpThreads: 8,
    });
    // Explicit settings still win.
    expect(planOnnxExecution(loadConfig({ ONNX_WORKERS: '2' }), model.bertBase, 2, null)).toMatchObject({ workers: 2 });
  });

  it('should run fewer sessions, each with more threads, when one per CPU would not fit', () => {
    // 150 MiB + 3 × (96 MiB + 1.6 × 60 MiB) = 726 MiB fits in 90% of 850 MiB; a fourth session would not.
    const plan = planOnnxExecution(loadConfig({}), model.medium, 8, 850 * MiB);
    expect(plan).toMatchObject({ workers: 3, intraOpThreads: 2, parallelism: 3, reducedFor: 'memory' });
    expect(plan.estimatedBytes).toBe(726 * MiB);
  });

  it('should refuse, in one line with what it needs, a model that does not fit with one session', () => {
    const refusal = () => planOnnxExecution(loadConfig({}), model.bertBase, 2, 512 * MiB);
    expect(refusal).toThrow(ModelMemoryError);
    expect(refusal).toThrow(
      /bertBase\.onnx needs about 919 MiB of memory with one ONNX Runtime session \(150 MiB \+ \(96 MiB \+ 1\.6 × bertBase\.onnx \(363 MiB\)\) per session, at 90% of the limit\), but the container's memory limit is 512 MiB/,
    );
    expect(() => refusal()).not.toThrow(/\n/);
    expect(() => planOnnxExecution(loadConfig({ ONNX_EXECUTION: 'inline' }), model.bertBase, 2, 512 * MiB)).toThrow(
      ModelMemoryError,
    );
  });

  it('should count a model.onnx_data beside the file, with the smaller share for mapped weights', () => {
    const split = join(dir, 'split.onnx');
    writeFileSync(split, '');
    truncateSync(split, 1 * MiB);
    writeFileSync(`${split}_data`, '');
    truncateSync(`${split}_data`, 362 * MiB);
    // 150 MiB + 96 MiB + 1.1 × 363 MiB = 645.3 MiB: fits 90% of 768 MiB, where the same weights inline would not.
    const plan = planOnnxExecution(loadConfig({}), split, 2, 768 * MiB);
    expect(plan).toMatchObject({ workers: 1, intraOpThreads: 2, modelBytes: 363 * MiB });
    expect(plan.estimatedBytes).toBe(Math.round((150 + 96 + 1.1 * 363) * MiB));
    expect(() => planOnnxExecution(loadConfig({}), model.bertBase, 2, 768 * MiB)).toThrow(ModelMemoryError);
    expect(() => planOnnxExecution(loadConfig({}), split, 2, 512 * MiB)).toThrow(
      /split\.onnx needs about 717 MiB .*\(150 MiB \+ \(96 MiB \+ 1\.1 × split\.onnx and split\.onnx_data \(363 MiB\)\) per session/,
    );
  });

  it('should add the main thread idle session only beside workers, for a small model, where it fits', () => {
    expect(planOnnxExecution(loadConfig({ ONNX_IDLE_INLINE: 'false' }), model.small, 2, null).idleInline).toBe(false);
    expect(planOnnxExecution(loadConfig({ ONNX_EXECUTION: 'inline' }), model.small, 2, null).idleInline).toBe(false);
    expect(planOnnxExecution(loadConfig({}), model.bertBase, 2, null).idleInline).toBe(false);
    // Two workers fit in 90% of 420 MiB (367.6 MiB), the idle session besides them (396.4 MiB) does not.
    expect(planOnnxExecution(loadConfig({}), model.small, 2, 420 * MiB)).toMatchObject({
      workers: 2,
      idleInline: false,
      estimatedBytes: Math.round((150 + 2 * 108.8) * MiB),
    });
  });

  it('should refuse an explicit ONNX_WORKERS that does not fit rather than silently run fewer', () => {
    expect(() => planOnnxExecution(loadConfig({ ONNX_WORKERS: '2' }), model.bertBase, 2, 1280 * MiB)).toThrow(
      /ONNX_WORKERS=2 needs about 1671 MiB .* memory limit is 1280 MiB: lower ONNX_WORKERS/,
    );
  });
});
