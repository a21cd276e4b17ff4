import { QueueFullError } from '../errors/index.js';
import { BatchedStrategy, type InferenceStrategy } from '../inference/index.js';
import type { BertTokenizer, Logits, TokenizedBatch } from '../model/index.js';
import { batchOf } from '../../test/support/batches.js';
import { SentimentService } from './sentiment.service.js';

/** A model that answers [0, 1] per row once released. */
function model(): InferenceStrategy & { release: () => void } {
  const waiting: (() => void)[] = [];
  return {
    model: { name: 'm', version: '1', backend: 'onnxruntime', inputs: ['input_ids'], precision: 'fp32' },
    state: () => ({ status: 'ready' }),
    checkHealth: () => Promise.resolve({ status: 'ready' }),
    infer: async (batch: TokenizedBatch): Promise<Logits> => {
      await new Promise<void>((resolve) => waiting.push(resolve));
      return { data: new Float32Array(batch.batchSize * 2).fill(1), rows: batch.batchSize, columns: 2 };
    },
    release: () => waiting.splice(0).forEach((resolve) => resolve()),
  };
}

/** A tokenizer that counts the sentences it was asked to encode, and can be told to fail. */
function tokenizer(fail = false): BertTokenizer & { encoded: number } {
  const counter = {
    encoded: 0,
    maxLength: 128,
    encodeBatch(sentences: readonly string[]): Promise<TokenizedBatch> {
      counter.encoded += sentences.length;
      return fail
        ? Promise.reject(new Error('tokenizer failed'))
        : Promise.resolve(batchOf(sentences.map(() => [1, 2])));
    },
  };
  return counter as unknown as BertTokenizer & { encoded: number };
}

describe(SentimentService.name, () => {
  const options = { maxBatchSize: 4, maxWaitMs: 0, maxQueueRows: 4, concurrency: 1, groupByLength: false };

  it('should refuse a request the queue cannot take before tokenizing it', async () => {
    const inner = model();
    const words = tokenizer();
    const service = new SentimentService(new BatchedStrategy(inner, options), words, ['NEG', 'POS']);
    const first = service.classify(['a', 'b', 'c']);
    // Three rows are held (tokenizing or queued): two more cannot fit, and are never tokenized.
    await expect(service.classify(['d', 'e'])).rejects.toBeInstanceOf(QueueFullError);
    expect(words.encoded).toBe(3);
    await new Promise((resolve) => setImmediate(resolve));
    inner.release();
    await expect(first).resolves.toMatchObject({ predictions: [{}, {}, {}] });
  });

  it('should give the room back when tokenizing fails', async () => {
    const service = new SentimentService(new BatchedStrategy(model(), options), tokenizer(true), ['NEG', 'POS']);
    for (let i = 0; i < 3; i++) {
      await expect(service.classify(['a', 'b', 'c', 'd'])).rejects.toThrow('tokenizer failed');
    }
    expect(service.inFlight).toBe(0);
  });
});
