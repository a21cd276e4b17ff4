/**
 * The exported BERT graph, run in tfjs, against a plain float64 re-implementation of BertForSequenceClassification
 * (tools/train/bert.py) on tiny random checkpoints: head counts other than the shipped model's (1 head: no
 * ConcatV2; 3 heads), 3 labels, padding, token types. Independent of the PyTorch golden logits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SavedModelRunner } from '../../../test/support/tfjs-savedmodel.js';
import { exportSavedModel } from '../saved-model.export.js';
import { referenceLogits, tinyCheckpoint, type TinyConfig, writeTinyBertFolder } from './tiny-bert.test-support.js';
import { TINY_SIZES } from './transformer.test-support.js';

describe('BERT architecture vs a float64 reference forward pass (tiny random checkpoints)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tiny-bert-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('should compute the last layer for the first token only, the one row the classification head reads', () => {
    const c: TinyConfig = { ...TINY_SIZES, layers: 3, heads: 2, types: 2 };
    writeTinyBertFolder(dir, c, tinyCheckpoint(c, 99));
    const { graph } = exportSavedModel(dir);
    // The sequence axis of every feed-forward matmul: all S rows in the first layers, one row in the last.
    const rowsOf = (layer: number) =>
      graph.nodes
        .filter((node) => node.op === 'matmul' && node.name.startsWith(`bert/encoder/layer_${layer}/intermediate/`))
        .map((node) => node.shape[1]);
    expect([rowsOf(0), rowsOf(1), rowsOf(2)]).toEqual([[-1], [-1], [1]]);
    // Its keys still come from every token: the last layer's score matrices are [B, 1, S].
    const scores = graph.nodes.filter(
      (node) => node.op === 'matmul' && node.name.startsWith('bert/encoder/layer_2/attention/self/head_0/scores/'),
    );
    expect(scores.map((node) => node.shape)).toEqual([[-1, 1, -1]]);
  });

  it.each([1, 3])('should compute the reference logits with %i attention head(s), padded or not', (heads) => {
    const c: TinyConfig = { ...TINY_SIZES, heads, types: 2 };
    const weights = tinyCheckpoint(c, 1234 + heads);
    writeTinyBertFolder(dir, c, weights);
    const { bytes, graph } = exportSavedModel(dir);
    expect(graph.nodes.some((node) => node.op === 'concat')).toBe(heads > 1);
    expect(graph.outputs[0]?.shape).toEqual([-1, 3]);

    // Row 0 uses every position; row 1 is shorter and padded with a non-zero id; token types vary.
    const ids = [
      [2, 5, 7, 11, 13, 17, 19, 4, 3, 1],
      [2, 9, 8, 3, 6, 6, 6, 6, 6, 6],
    ];
    const mask = [new Array<number>(10).fill(1), [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]];
    const types = [
      [0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
      [0, 0, 1, 1, 0, 0, 0, 0, 0, 0],
    ];
    const runner = SavedModelRunner.fromBytes(bytes);
    try {
      const batched = runner.predict({ input_ids: ids, attention_mask: mask, token_type_ids: types })
        .logits as number[][];
      const unpadded = runner.predict({
        input_ids: [ids[1]!.slice(0, 4)],
        attention_mask: [[1, 1, 1, 1]],
        token_type_ids: [types[1]!.slice(0, 4)],
      }).logits as number[][];
      const expected = ids.map((row, r) => referenceLogits(c, weights, row, mask[r]!, types[r]!));
      // Logits are O(1); float32 against float64 agrees to ~1e-6.
      batched.forEach((row, r) =>
        row.forEach((value, i) => expect(Math.abs(value - expected[r]![i]!)).toBeLessThan(1e-4)),
      );
      unpadded[0]!.forEach((value, i) => expect(Math.abs(value - batched[1]![i]!)).toBeLessThan(1e-5));
      expect(Math.max(...expected.flat().map(Math.abs))).toBeGreaterThan(0.1);
    } finally {
      runner.dispose();
    }
  });
});
