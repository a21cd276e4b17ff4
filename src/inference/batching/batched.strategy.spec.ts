import { QueueFullError, RequestAbortedError } from '../../errors/index.js';
import type { Logits, TokenizedBatch } from '../../model/index.js';
import type { InferenceStrategy, StrategyState } from '../inference-strategy.interface.js';
import { batchOf as paddedBatch } from '../../../test/support/batches.js';
import { type BatchingOptions, BatchedStrategy } from './batched.strategy.js';

const batchOf = (...rows: number[][]): TokenizedBatch => paddedBatch(rows);

/**
 * A model whose logits identify the row ([sum of ids, real length]), that records every call, and whose calls
 * finish only when the test releases them.
 */
class RecordingModel implements InferenceStrategy {
  readonly calls: TokenizedBatch[] = [];
  private releases: (() => void)[] = [];
  readonly model = {
    name: 'm',
    version: '1',
    backend: 'onnxruntime' as const,
    inputs: ['input_ids'],
    precision: 'fp32' as const,
  };
  state(): StrategyState {
    return { status: 'ready' };
  }
  checkHealth(): Promise<StrategyState> {
    return Promise.resolve(this.state());
  }
  async infer(batch: TokenizedBatch): Promise<Logits> {
    this.calls.push(batch);
    await new Promise<void>((resolve) => this.releases.push(resolve));
    const data = new Float32Array(batch.batchSize * 2);
    for (let r = 0; r < batch.batchSize; r++) {
      let sum = 0;
      let length = 0;
      for (let c = 0; c < batch.sequenceLength; c++) {
        sum += batch.inputIds[r * batch.sequenceLength + c]!;
        length += batch.attentionMask[r * batch.sequenceLength + c]!;
      }
      data[r * 2] = sum;
      data[r * 2 + 1] = length;
    }
    return { data, rows: batch.batchSize, columns: 2 };
  }
  release(): void {
    this.releases.splice(0).forEach((release) => release());
  }
}

const OPTIONS: BatchingOptions = {
  maxBatchSize: 4,
  maxWaitMs: 0,
  maxQueueRows: 8,
  concurrency: 1,
  groupByLength: false,
};
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe(BatchedStrategy.name, () => {
  it('should gather requests that arrive while the model is busy into one call, and route each its own rows', async () => {
    const model = new RecordingModel();
    const batched = new BatchedStrategy(model, OPTIONS);
    const first = batched.infer(batchOf([1, 2]));
    await tick();
    const second = batched.infer(batchOf([10, 20, 30], [5]));
    const third = batched.infer(batchOf([7]));
    model.release();
    await tick();
    expect(model.calls.map((c) => c.batchSize)).toEqual([1, 3]);
    expect(model.calls[1]!.sequenceLength).toBe(3);
    model.release();
    expect(Array.from((await first).data)).toEqual([3, 2]);
    expect(Array.from((await second).data)).toEqual([60, 3, 5, 1]);
    expect(Array.from((await third).data)).toEqual([7, 1]);
  });

  it('should never put more than maxBatchSize rows in one call', async () => {
    const model = new RecordingModel();
    const batched = new BatchedStrategy(model, { ...OPTIONS, maxQueueRows: 100 });
    const all = Array.from({ length: 10 }, (_, i) => batched.infer(batchOf([i + 1])));
    for (let i = 0; i < 5; i++) {
      await tick();
      model.release();
    }
    await Promise.all(all);
    // The first row runs alone (the model was free and maxWaitMs is 0); the rest gather behind it.
    expect(model.calls.map((c) => c.batchSize)).toEqual([1, 4, 4, 1]);
  });

  it('should wait up to maxWaitMs for more rows when the model is free', async () => {
    const model = new RecordingModel();
    const batched = new BatchedStrategy(model, { ...OPTIONS, maxWaitMs: 30 });
    const a = batched.infer(batchOf([1]));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const b = batched.infer(batchOf([2]));
    expect(model.calls).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(model.calls.map((c) => c.batchSize)).toEqual([2]);
    model.release();
    await Promise.all([a, b]);
  });

  it('should group rows of similar length so short ones do not pay for a long one', async () => {
    const model = new RecordingModel();
    const batched = new BatchedStrategy(model, { ...OPTIONS, maxBatchSize: 2, maxQueueRows: 100, groupByLength: true });
    const busy = batched.infer(batchOf([9]));
    await tick();
    const rows = [[1], Array(50).fill(1), [2], Array(50).fill(2)] as number[][];
    const all = rows.map((row) => batched.infer(batchOf(row)));
    for (let i = 0; i < 4; i++) {
      model.release();
      await tick();
    }
    await Promise.all([busy, ...all]);
    expect(model.calls.slice(1).map((c) => c.sequenceLength)).toEqual([1, 50]);
  });

  it('should keep a row out of a batch it would pad beyond maxPadding', async () => {
    const model = new RecordingModel();
    const batched = new BatchedStrategy(model, {
      ...OPTIONS,
      maxBatchSize: 4,
      maxQueueRows: 100,
      groupByLength: true,
      maxPadding: 0.5,
    });
    const busy = batched.infer(batchOf([9]));
    await tick();
    const rows = [[1, 1], [2, 2], Array(10).fill(3) as number[]];
    const all = rows.map((row) => batched.infer(batchOf(row)));
    for (let i = 0; i < 4; i++) {
      model.release();
      await tick();
    }
    await Promise.all([busy, ...all]);
    expect(model.calls.slice(1).map((c) => [c.batchSize, c.sequenceLength])).toEqual([
      [2, 2],
      [1, 10],
    ]);
  });

  it('should refuse at once when the queue is full', async () => {
    const model = new RecordingModel();
    const batched = new BatchedStrategy(model, { ...OPTIONS, maxQueueRows: 2 });
    const running = batched.infer(batchOf([1]));
    await tick();
    const queued = batched.infer(batchOf([1], [2]));
    await expect(batched.infer(batchOf([3]))).rejects.toBeInstanceOf(QueueFullError);
    model.release();
    await tick();
    model.release();
    await Promise.all([running, queued]);
  });

  it('should hold room for rows not yet tokenized: reserved rows count against the queue until given back', async () => {
    const model = new RecordingModel();
    const batched = new BatchedStrategy(model, { ...OPTIONS, maxQueueRows: 4 });
    // The model is busy, so what follows stays queued.
    const running = batched.infer(batchOf([9]));
    await tick();
    const release = batched.reserve(3);
    expect(() => batched.reserve(2)).toThrow(QueueFullError);
    await expect(batched.infer(batchOf([1], [2]))).rejects.toBeInstanceOf(QueueFullError);
    const other = batched.reserve(1);
    // Given back just before its rows are queued, in the same turn: the 3 rows fit beside the other reservation.
    release();
    release();
    const answered = batched.infer(batchOf([1], [2], [3]));
    expect(() => batched.reserve(1)).toThrow(QueueFullError);
    other();
    expect(() => batched.reserve(1)).not.toThrow();
    model.release();
    await tick();
    model.release();
    await expect(Promise.all([running, answered])).resolves.toMatchObject([{ rows: 1 }, { rows: 3 }]);
  });

  it('should drop an aborted request from the queue before it reaches the model', async () => {
    const model = new RecordingModel();
    const batched = new BatchedStrategy(model, OPTIONS);
    const running = batched.infer(batchOf([1]));
    await tick();
    const controller = new AbortController();
    const abandoned = batched.infer(batchOf([42]), controller.signal);
    const kept = batched.infer(batchOf([7]));
    controller.abort();
    await expect(abandoned).rejects.toBeInstanceOf(RequestAbortedError);
    model.release();
    await tick();
    model.release();
    await Promise.all([running, kept]);
    expect(model.calls.flatMap((c) => Array.from(c.inputIds))).not.toContain(42);
  });

  it('should fail every request of a failed call, and keep serving', async () => {
    const failing: InferenceStrategy = {
      ...new RecordingModel(),
      model: new RecordingModel().model,
      state: () => ({ status: 'ready' }),
      checkHealth: () => Promise.resolve({ status: 'ready' }),
      infer: () => Promise.reject(new Error('boom')),
    };
    const batched = new BatchedStrategy(failing, OPTIONS);
    await expect(batched.infer(batchOf([1]))).rejects.toThrow('boom');
    await expect(batched.infer(batchOf([2]))).rejects.toThrow('boom');
  });
});
