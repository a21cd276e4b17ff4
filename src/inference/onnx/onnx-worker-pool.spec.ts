import { jest } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { BertTokenizer } from '../../model/bert.tokenizer.js';
import { OnnxSession } from './onnx-session.js';
import { OnnxWorkerPool, onnxWorkerThreads } from './onnx-worker-pool.js';
import { batchOf } from '../../../test/support/batches.js';
import { FAKE_INPUT_NAMES as INPUT_NAMES, FakeThreads } from '../../../test/support/fake-onnx-workers.js';

const MODEL = fileURLToPath(new URL('../../../models/sentiment_analysis/1/model.onnx', import.meta.url));
const TOKENIZER = fileURLToPath(new URL('../../../models/sentiment_analysis/1/tokenizer.json', import.meta.url));
const OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1 };

const settle = () => new Promise((resolve) => setImmediate(resolve));
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) {
    await settle();
  }
  expect(condition()).toBe(true);
}

describe(`${OnnxWorkerPool.name} (worker stand-ins)`, () => {
  const batch = batchOf([
    [101, 2023, 102],
    [101, 102],
  ]);

  it('should start each worker on the model file (not its bytes) and take the inputs the workers report', async () => {
    const threads = new FakeThreads();
    const pool = await OnnxWorkerPool.create(MODEL, 2, OPTIONS, threads.start);
    expect(pool.size).toBe(2);
    expect(threads.started.map((worker) => worker.workerData)).toEqual([
      { modelPath: MODEL, options: OPTIONS },
      { modelPath: MODEL, options: OPTIONS },
    ]);
    expect(pool.inputNames).toEqual(INPUT_NAMES);
    expect(pool.numLabels).toBe(2);
  });

  it('should send a batch to the worker with the fewest in flight, post only its tensors, and answer each caller', async () => {
    const threads = new FakeThreads();
    const pool = await OnnxWorkerPool.create(MODEL, 2, OPTIONS, threads.start);
    const [a, b] = [threads.worker(0), threads.worker(1)];

    const first = pool.run(batch);
    const second = pool.run(batch);
    const third = pool.run(batch);
    expect([a.runs.length, b.runs.length]).toEqual([2, 1]);
    expect(Object.keys(a.runs[0]!.batch).sort()).toEqual(
      ['attentionMask', 'batchSize', 'inputIds', 'padId', 'sequenceLength', 'tokenTypeIds'].sort(),
    );
    expect(a.runs[0]!.batch.inputIds).toEqual(batch.inputIds);

    // b finishes first: it is now the idle one, and takes the next batch.
    b.answer(b.runs[0]!, 2);
    const fourth = pool.run(batch);
    expect([a.runs.length, b.runs.length]).toEqual([2, 2]);

    // Answers out of order still reach the caller whose batch they belong to.
    a.answer(a.runs[1]!, 3);
    a.answer(a.runs[0]!, 1);
    b.answer(b.runs[1]!, 4);
    const results = await Promise.all([first, second, third, fourth]);
    expect(results.map((logits) => [logits.data[0], logits.rows, logits.columns])).toEqual([
      [1, 2, 2],
      [2, 2, 2],
      [3, 2, 2],
      [4, 2, 2],
    ]);
  });

  it('should fail the batch a worker reports an error for, and keep using that worker', async () => {
    const threads = new FakeThreads();
    const pool = await OnnxWorkerPool.create(MODEL, 1, OPTIONS, threads.start);
    const worker = threads.worker(0);
    const failing = pool.run(batch);
    worker.fail(worker.runs[0]!, 'input_ids: wrong shape');
    await expect(failing).rejects.toThrow('input_ids: wrong shape');

    const next = pool.run(batch);
    worker.answer(worker.runs[1]!, 5);
    expect((await next).data[0]).toBe(5);
    expect(threads.started).toHaveLength(1);
  });

  it('should fail the batches of a worker that dies, refuse batches until its replacement is ready, then use it', async () => {
    let replacementReady = (): void => undefined;
    const threads = new FakeThreads((worker, index) => {
      if (index === 0) {
        worker.ready();
      } else {
        replacementReady = () => worker.ready();
      }
    });
    const pool = await OnnxWorkerPool.create(MODEL, 1, OPTIONS, threads.start);
    const inFlight = [pool.run(batch), pool.run(batch)];
    threads.worker(0).exit(3);
    for (const run of inFlight) {
      await expect(run).rejects.toThrow('ONNX Runtime worker exited with code 3');
    }

    await until(() => threads.started.length === 2);
    expect(threads.worker(1).workerData).toEqual({ modelPath: MODEL, options: OPTIONS });
    await expect(pool.run(batch)).rejects.toThrow('no ONNX Runtime worker is running');

    replacementReady();
    await settle();
    const served = pool.run(batch);
    const replacement = threads.worker(1);
    expect(replacement.runs).toHaveLength(1);
    replacement.answer(replacement.runs[0]!, 6);
    expect((await served).data[0]).toBe(6);
  });

  it('should warm up every worker, and a replacement before it takes traffic', async () => {
    const threads = new FakeThreads();
    const pool = await OnnxWorkerPool.create(MODEL, 2, OPTIONS, threads.start);
    const [a, b] = [threads.worker(0), threads.worker(1)];
    const warmUpBatch = batchOf([[101, 4010, 2039, 102]]);

    const warmUp = pool.warmUp(warmUpBatch);
    for (const worker of [a, b]) {
      expect(worker.runs.map((run) => run.batch.inputIds)).toEqual([warmUpBatch.inputIds]);
    }
    b.answer(b.runs[0]!, 8);
    a.answer(a.runs[0]!, 7);
    expect((await warmUp).data[0]).toBe(7); // the first worker's logits

    a.exit(1);
    await until(() => threads.started[2]?.runs.length === 1);
    const replacement = threads.worker(2);
    expect(replacement.runs[0]!.batch.inputIds).toEqual(warmUpBatch.inputIds);

    // Still warming up: traffic goes to b, even with a batch already in flight there.
    const busy = pool.run(batch);
    const busier = pool.run(batch);
    expect([replacement.runs.length, b.runs.length]).toEqual([1, 3]);

    replacement.answer(replacement.runs[0]!, 0);
    await settle();
    const served = pool.run(batch);
    expect(replacement.runs).toHaveLength(2);
    replacement.answer(replacement.runs[1]!, 9);
    b.answer(b.runs[1]!, 1);
    b.answer(b.runs[2]!, 2);
    expect((await Promise.all([busy, busier, served])).map((logits) => logits.data[0])).toEqual([1, 2, 9]);
  });

  it('should refuse to start when a worker cannot load the model, naming why, and stop the workers that started', async () => {
    const threads = new FakeThreads((worker, index) =>
      index === 1
        ? worker.emit('message', { type: 'failed', message: 'Load model failed: protobuf parsing failed' })
        : worker.ready(),
    );
    await expect(OnnxWorkerPool.create(MODEL, 2, OPTIONS, threads.start)).rejects.toThrow(
      'Load model failed: protobuf parsing failed',
    );
    expect(threads.started.map((worker) => worker.terminated)).toEqual([true, true]);
  });

  it('should release by asking every worker to close and waiting for each to end, without replacing it', async () => {
    const threads = new FakeThreads();
    const pool = await OnnxWorkerPool.create(MODEL, 2, OPTIONS, threads.start);
    const [a, b] = [threads.worker(0), threads.worker(1)];
    a.endsOnClose = false;

    let released = false;
    const release = pool.release().then(() => (released = true));
    expect([a.posted.at(-1), b.posted.at(-1)]).toEqual([{ type: 'close' }, { type: 'close' }]);
    await settle();
    expect(released).toBe(false); // a has not ended yet
    a.exit(0);
    await release;
    expect([a.terminated, b.terminated]).toEqual([false, false]);
    await settle();
    expect(threads.started).toHaveLength(2);
  });

  it('should terminate a worker that has not closed 5 s after release', async () => {
    const threads = new FakeThreads();
    const pool = await OnnxWorkerPool.create(MODEL, 1, OPTIONS, threads.start);
    const worker = threads.worker(0);
    worker.endsOnClose = false;
    jest.useFakeTimers();
    try {
      const release = pool.release();
      await jest.advanceTimersByTimeAsync(4_999);
      expect(worker.terminated).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await release;
      expect(worker.terminated).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe(`${OnnxWorkerPool.name} (worker threads running ONNX Runtime)`, () => {
  const tokenizer = BertTokenizer.fromFile(TOKENIZER, 128);

  it('should give the same logits as an in-process session, from every worker', async () => {
    const pool = await OnnxWorkerPool.create(MODEL, 2, OPTIONS);
    const inline = await OnnxSession.create(MODEL, OPTIONS);
    try {
      expect(pool.size).toBe(2);
      expect(pool.inputNames).toEqual(INPUT_NAMES);
      const batch = await tokenizer.encodeBatch(['this is a bad example', 'a great film']);
      const expected = Array.from((await inline.run(batch)).data);
      const results = await Promise.all([pool.run(batch), pool.run(batch), pool.run(batch)]);
      for (const logits of results) {
        expect(Array.from(logits.data)).toEqual(expected);
        expect([logits.rows, logits.columns]).toEqual([2, 2]);
      }
    } finally {
      await Promise.all([pool.release(), inline.release()]);
    }
  }, 30_000);

  it('should refuse to start on a broken model, naming the problem', async () => {
    await expect(OnnxWorkerPool.create(TOKENIZER, 2, OPTIONS)).rejects.toThrow(/protobuf|model|parse|Load/i);
  }, 30_000);

  it('should release by letting each worker finish its runs and end by itself, not terminating it', async () => {
    const threads = onnxWorkerThreads();
    const codes: Promise<number>[] = [];
    const pool = await OnnxWorkerPool.create(MODEL, 2, OPTIONS, (workerData) => {
      const worker = threads(workerData);
      codes.push(new Promise<number>((resolve) => worker.once('exit', resolve)));
      return worker;
    });
    const batch = await tokenizer.encodeBatch(['a run still in progress when the pool is released']);
    const inFlight = [pool.run(batch), pool.run(batch)];
    await pool.release();
    // A terminated worker exits with code 1; one that ended by itself, with 0.
    expect(await Promise.all(codes)).toEqual([0, 0]);
    for (const logits of await Promise.all(inFlight)) {
      expect(logits.rows).toBe(1);
    }
  }, 30_000);
});
