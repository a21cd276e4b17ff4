import { ModelNotReadyError } from '../../src/errors/index.js';
import type { InferenceStrategy, ServedModel, StrategyState } from '../../src/inference/index.js';
import type { Logits, TokenizedBatch } from '../../src/model/index.js';

/** A strategy under the test's control, put in place of a real runtime at its injection token. */
export class ScriptedStrategy implements InferenceStrategy {
  next: (batch: TokenizedBatch) => Promise<Logits> = () => Promise.reject(new Error('not scripted'));
  current: StrategyState = { status: 'ready' };

  constructor(private readonly backend: ServedModel['backend'] = 'onnxruntime') {}

  /** Like the real strategies: what is served is known only while ready. */
  get model(): ServedModel {
    if (this.current.status !== 'ready') {
      throw new ModelNotReadyError('scripted');
    }
    return { name: 'scripted', version: '7', backend: this.backend, inputs: ['input_ids'], precision: 'fp32' };
  }

  state(): StrategyState {
    return this.current;
  }

  checkHealth(): Promise<StrategyState> {
    return Promise.resolve(this.current);
  }

  infer(batch: TokenizedBatch): Promise<Logits> {
    return this.next(batch);
  }
}

/** Two-label logits, every row NEGATIVE. */
export const negativeLogits = (batch: TokenizedBatch): Promise<Logits> =>
  Promise.resolve({
    data: new Float32Array(batch.batchSize * 2).map((_, i) => (i % 2 === 0 ? 2 : 0)),
    rows: batch.batchSize,
    columns: 2,
  });
