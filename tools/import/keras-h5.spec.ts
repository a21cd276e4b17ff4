import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { readKerasCheckpoint } from './checkpoint-weights.js';
import { readKerasH5Weights } from './keras-h5.js';
import { type KerasH5Options, type PyTorchWeights, writeKerasH5 } from './keras-h5.test-support.js';

/** A BERT-shaped handful of tensors: H = 4, 2 heads, 3 labels. */
const WEIGHTS: PyTorchWeights = {
  'bert.embeddings.word_embeddings.weight': { shape: [5, 4], data: Float32Array.from({ length: 20 }, (_, i) => i) },
  'bert.embeddings.position_embeddings.weight': {
    shape: [3, 4],
    data: Float32Array.from({ length: 12 }, (_, i) => -i),
  },
  'bert.embeddings.LayerNorm.weight': { shape: [4], data: Float32Array.from([1, 2, 3, 4]) },
  'bert.embeddings.LayerNorm.bias': { shape: [4], data: Float32Array.from([5, 6, 7, 8]) },
  'bert.encoder.layer.0.attention.self.query.weight': {
    shape: [4, 4],
    data: Float32Array.from({ length: 16 }, (_, i) => i / 16),
  },
  'bert.encoder.layer.0.attention.self.query.bias': { shape: [4], data: Float32Array.from([0.1, 0.2, 0.3, 0.4]) },
  'bert.encoder.layer.0.attention.output.dense.weight': {
    shape: [4, 4],
    data: Float32Array.from({ length: 16 }, (_, i) => 1 - i / 8),
  },
  'classifier.weight': { shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i * 0.5) },
  'classifier.bias': { shape: [3], data: Float32Array.from([9, 8, 7]) },
};

describe('tf_model.h5 reader (h5wasm)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'keras-h5-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should list the weights by their full Keras names, at /<layer>/<name>, in Keras layout', async () => {
    const path = join(dir, 'plain.h5');
    await writeKerasH5(path, WEIGHTS);
    const weights = await readKerasH5Weights(path);
    expect(weights.map((w) => w.name)).toContain('tf_bert_for_sequence_classification/classifier/kernel:0');
    const kernel = weights.find((w) => w.name.endsWith('classifier/kernel:0'));
    expect(kernel?.dataset).toBe('/classifier/tf_bert_for_sequence_classification/classifier/kernel:0');
    expect(kernel?.shape).toEqual([4, 3]);
    const gamma = weights.find((w) => w.name.endsWith('embeddings/LayerNorm/gamma:0'));
    expect([...(gamma?.data ?? [])]).toEqual([1, 2, 3, 4]);
    expect(weights).toHaveLength(Object.keys(WEIGHTS).length);
  });

  it.each<[string, KerasH5Options]>([
    ['h5py 3 (variable-length names)', {}],
    ['h5py 2 (fixed-length names)', { fixedLengthStrings: true }],
    ['chunked name attributes (layer_names0, layer_names1, ...)', { chunkAttributes: true, fixedLengthStrings: true }],
    ['a whole-model file (/model_weights)', { modelWeightsGroup: true }],
    ['a suffixed model name', { modelName: 'tf_bert_for_sequence_classification_2' }],
    ['EinsumDense attention kernels (transformers 4.2)', { einsumHeads: 2 }],
  ])('should give back the PyTorch tensors from %s', async (_, options) => {
    const path = join(dir, 'variant.h5');
    await writeKerasH5(path, WEIGHTS, options);
    const query = (await readKerasH5Weights(path)).find((w) => w.name.endsWith('self/query/kernel:0'));
    expect(query?.shape).toEqual(options.einsumHeads === undefined ? [4, 4] : [4, 2, 2]);
    const checkpoint = await readKerasCheckpoint(path);
    for (const [name, tensor] of Object.entries(WEIGHTS)) {
      const read = checkpoint.float32(name, tensor.shape);
      expect([...read]).toEqual([...tensor.data]);
    }
    expect(checkpoint.unused()).toEqual([]);
    // classifier, query and attention output kernels
    expect(checkpoint.transposed).toBe(3);
  });

  it('should name the file and the dataset when a shape does not match', async () => {
    const path = join(dir, 'shape.h5');
    await writeKerasH5(path, WEIGHTS);
    const checkpoint = await readKerasCheckpoint(path);
    expect(() => checkpoint.float32('classifier.weight', [2, 4])).toThrow(
      `${path}: tensor "classifier.weight" (from dataset /classifier/tf_bert_for_sequence_classification/classifier/kernel:0, transposed) has shape [3, 4], expected [2, 4]`,
    );
    expect(() => checkpoint.float32('bert.pooler.dense.weight', [4, 4])).toThrow(
      `${path}: missing tensor "bert.pooler.dense.weight" (expected [4, 4])`,
    );
  });

  it('should refuse a file that is not HDF5, naming it', async () => {
    const path = join(dir, 'not.h5');
    writeFileSync(path, 'this is not an HDF5 file');
    await expect(readKerasH5Weights(path)).rejects.toThrow(`${path}: not an HDF5 file`);
  });

  it('should refuse an HDF5 file without Keras layer_names (e.g. Keras 3 .weights.h5)', async () => {
    const path = join(dir, 'keras3.h5');
    await h5wasm.ready;
    const file = new h5wasm.File(path, 'w');
    file.create_group('layers').create_group('dense').create_group('vars');
    file.close();
    await expect(readKerasH5Weights(path)).rejects.toThrow(`${path}: no "layer_names" attribute at /`);
  });

  it('should name a dataset that weight_names lists but the file lacks', async () => {
    const path = join(dir, 'missing.h5');
    await h5wasm.ready;
    const file = new h5wasm.File(path, 'w');
    file.create_attribute('layer_names', ['classifier']);
    file.create_group('classifier').create_attribute('weight_names', ['m/classifier/kernel:0']);
    file.close();
    await expect(readKerasH5Weights(path)).rejects.toThrow(
      `${path}: dataset /classifier/m/classifier/kernel:0: listed in weight_names of /classifier but missing`,
    );
  });

  it('should refuse integer weights, naming the dataset', async () => {
    const path = join(dir, 'int.h5');
    await h5wasm.ready;
    const file = new h5wasm.File(path, 'w');
    file.create_attribute('layer_names', ['classifier']);
    const group = file.create_group('classifier');
    group.create_attribute('weight_names', ['bias:0']);
    group.create_dataset({ name: 'bias:0', data: Int32Array.from([1, 2]) });
    file.close();
    await expect(readKerasH5Weights(path)).rejects.toThrow(`${path}: dataset /classifier/bias:0: dtype`);
  });
});
