import { jest } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import type { Logits, TokenizedBatch } from '../../model/index.js';
import { BertTokenizer } from '../../model/bert.tokenizer.js';
import { batchOf, maxAbsDiff } from '../../../test/support/batches.js';
import { CONTENTION_WINDOW_MS, IDLE_INLINE_MAX_TOKENS, IdleInlineRunner } from './onnx-idle-inline.js';
import { OnnxSession } from './onnx-session.js';
import { OnnxWorkerPool, type OnnxRunner } from './onnx-worker-pool.js';

const MODEL = fileURLToPath(new URL('../../../models/sentiment_analysis/1/model.onnx', import.meta.url));
const TOKENIZER = fileURLToPath(new URL('../../../models/sentiment_analysis/1/tokenizer.json', import.meta.url));
const OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1 };

/** A runner whose runs stay pending until the test answers them. */
class HeldRunner implements OnnxRunner {
  readonly inputNames = ['input_ids', 'attention_mask'];
  readonly numLabels = 2;
  readonly runs: { batch: TokenizedBatch; answer: () => void }[] = [];
  readonly warmedUp: TokenizedBatch[] = [];
  released = false;

  run(batch: TokenizedBatch): Promise<Logits> {
    return new Promise((resolve) => {
      this.runs.push({
        batch,
        answer: () => resolve({ data: new Float32Array(batch.batchSize * 2), rows: 1, columns: 2 }),
      });
    });
  }

  warmUp(batch: TokenizedBatch): Promise<Logits> {
    this.warmedUp.push(batch);
    return Promise.resolve({ data: new Float32Array(2), rows: 1, columns: 2 });
  }

  release(): Promise<void> {
    this.released = true;
    return Promise.resolve();
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const short = batchOf([[101, 2023, 102]]);

describe(IdleInlineRunner.name, () => {
  let pool: HeldRunner;
  let inline: HeldRunner;
  let runner: IdleInlineRunner;
  beforeEach(() => {
    pool = new HeldRunner();
    inline = new HeldRunner();
    runner = new IdleInlineRunner(pool, inline);
  });

  it('should run a lone batch on the main thread when nothing else runs, after the turn of the event loop', async () => {
    const answer = runner.run(short);
    // Decided only once every request already received has had its turn.
    expect(inline.runs).toHaveLength(0);
    await turn();
    expect([inline.runs.length, pool.runs.length]).toEqual([1, 0]);
    inline.runs[0]!.answer();
    await expect(answer).resolves.toMatchObject({ columns: 2 });
    expect(runner.inlineCount).toBe(1);
  });

  it('should send batches that arrive in the same turn to the pool, and one that arrives while another runs', async () => {
    void runner.run(short);
    void runner.run(short);
    await turn();
    expect([inline.runs.length, pool.runs.length]).toEqual([0, 2]);
    void runner.run(short);
    expect(pool.runs).toHaveLength(3);
    expect(runner.inlineCount).toBe(0);
  });

  it('should send a batch to the pool while one runs on the main thread', async () => {
    void runner.run(short);
    await turn();
    void runner.run(short);
    await turn();
    expect([inline.runs.length, pool.runs.length]).toEqual([1, 1]);
  });

  it('should keep to the pool for a while after batches met, then use the main thread again', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
    try {
      void runner.run(short);
      void runner.run(short);
      jest.advanceTimersByTime(0);
      expect(pool.runs).toHaveLength(2);
      pool.runs.forEach((run) => run.answer());
      await Promise.resolve();
      await Promise.resolve();
      // Idle again, but within the contention window: still the pool.
      void runner.run(short);
      jest.advanceTimersByTime(0);
      expect([inline.runs.length, pool.runs.length]).toEqual([0, 3]);
      pool.runs[2]!.answer();
      await Promise.resolve();
      await Promise.resolve();
      jest.advanceTimersByTime(CONTENTION_WINDOW_MS + 1);
      void runner.run(short);
      jest.advanceTimersByTime(0);
      expect([inline.runs.length, pool.runs.length]).toEqual([1, 3]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('should never run a large batch on the main thread', async () => {
    const rows = Array.from({ length: 4 }, () => Array.from({ length: IDLE_INLINE_MAX_TOKENS / 2 }, () => 1000));
    void runner.run(batchOf(rows));
    await turn();
    expect([inline.runs.length, pool.runs.length]).toEqual([0, 1]);
  });

  it('should warm up and release both', async () => {
    await runner.warmUp(short);
    await runner.release();
    expect([pool.warmedUp, inline.warmedUp]).toEqual([[short], [short]]);
    expect([pool.released, inline.released]).toEqual([true, true]);
  });
});

describe(`${IdleInlineRunner.name} on ONNX Runtime`, () => {
  it('should give the same logits on the main thread as on the worker pool', async () => {
    const tokenizer = BertTokenizer.fromFile(TOKENIZER, 128);
    const pool = await OnnxWorkerPool.create(MODEL, 1, OPTIONS);
    const runner = new IdleInlineRunner(pool, await OnnxSession.create(MODEL, OPTIONS));
    try {
      const batch = await tokenizer.encodeBatch(['this is a bad example']);
      const [onPool, alone] = [await pool.run(batch), await runner.run(batch)];
      expect(runner.inlineCount).toBe(1);
      expect(maxAbsDiff(alone.data, onPool.data)).toBeLessThan(1e-5);
    } finally {
      await runner.release();
    }
  });
});
