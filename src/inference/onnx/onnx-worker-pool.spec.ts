import { jest } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { BertTokenizer } from '../../model/bert.tokenizer.js';
import { OnnxSession } from './onnx-session.js';
import { OnnxWorkerPool } from './onnx-worker-pool.js';

const MODEL = fileURLToPath(new URL('../../../models/sentiment_analysis/1/model.onnx', import.meta.url));
const TOKENIZER = fileURLToPath(new URL('../../../models/sentiment_analysis/1/tokenizer.json', import.meta.url));
const OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1 };

describe(OnnxWorkerPool.name, () => {
  const tokenizer = BertTokenizer.fromFile(TOKENIZER, 128);

  it('should give the same logits as an in-process session, from every worker', async () => {
    const pool = await OnnxWorkerPool.create(MODEL, 2, OPTIONS);
    const inline = await OnnxSession.create(MODEL, OPTIONS);
    try {
      expect(pool.size).toBe(2);
      expect(pool.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
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

  it('should fail the batches of a worker that dies, replace it, and keep serving', async () => {
    const pool = await OnnxWorkerPool.create(MODEL, 1, OPTIONS);
    try {
      const batch = await tokenizer.encodeBatch(['fine']);
      const slots = (pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots;
      const inFlight = pool.run(batch);
      await slots[0]!.worker.terminate();
      await expect(inFlight).rejects.toThrow(/worker exited/);
      for (let i = 0; i < 100; i++) {
        const answer = await pool.run(batch).catch(() => null);
        if (answer) {
          expect(answer.rows).toBe(1);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the pool did not recover');
    } finally {
      await pool.release();
    }
  }, 30_000);

  it('should warm up every worker, and a replacement before it takes traffic', async () => {
    const pool = await OnnxWorkerPool.create(MODEL, 2, OPTIONS);
    type Slot = { worker: { postMessage(message: unknown): void; terminate(): Promise<number> }; alive: boolean };
    const slots = (pool as unknown as { slots: Slot[] }).slots;
    try {
      const warmUp = await tokenizer.encodeBatch(['warm up']);
      const posted = slots.map((slot) => jest.spyOn(slot.worker, 'postMessage'));
      const logits = await pool.warmUp(warmUp);
      expect([logits.rows, logits.columns]).toEqual([1, 2]);
      posted.forEach((spy) => expect(spy).toHaveBeenCalledTimes(1));

      // Watch what the replacement worker is sent from the moment it exists.
      const internals = pool as unknown as { spawnWorker: () => Promise<{ worker: Slot['worker'] }> };
      const spawn = internals.spawnWorker;
      const sentToReplacement: unknown[] = [];
      internals.spawnWorker = async () => {
        const spawned = await spawn();
        const original = spawned.worker.postMessage.bind(spawned.worker);
        spawned.worker.postMessage = (message: unknown) => {
          sentToReplacement.push(message);
          original(message);
        };
        return spawned;
      };
      await slots[0]!.worker.terminate();
      for (let i = 0; i < 100 && !slots[0]!.alive; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(slots[0]!.alive).toBe(true);
      // Before it was marked alive (and could take traffic), the replacement ran the warm-up batch.
      expect(sentToReplacement).toHaveLength(1);
      expect((sentToReplacement[0] as { batch: { inputIds: Int32Array } }).batch.inputIds).toEqual(warmUp.inputIds);
    } finally {
      await pool.release();
    }
  }, 30_000);

  it('should refuse to start on a broken model, naming the problem', async () => {
    await expect(OnnxWorkerPool.create(TOKENIZER, 2, OPTIONS)).rejects.toThrow(/protobuf|model|parse|Load/i);
  }, 30_000);

  it('should release by letting each worker finish its runs and end by itself, not terminating it', async () => {
    const pool = await OnnxWorkerPool.create(MODEL, 2, OPTIONS);
    type Slot = { worker: { once(event: 'exit', listener: (code: number) => void): void } };
    const slots = (pool as unknown as { slots: Slot[] }).slots;
    const codes = slots.map(({ worker }) => new Promise<number>((resolve) => worker.once('exit', resolve)));
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
