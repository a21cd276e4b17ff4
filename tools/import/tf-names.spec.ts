import { pyTorchName, toPyTorchLayout, transpose2d } from './tf-names.js';
import { kerasVariable } from './keras-h5.test-support.js';

describe('TF (Keras) variable names → PyTorch parameter names', () => {
  it.each([
    // shared/reference/hf-checkpoints.md §2.4.1 / §2.8
    [
      'tf_bert_for_sequence_classification/bert/embeddings/word_embeddings/weight:0',
      'bert.embeddings.word_embeddings.weight',
    ],
    [
      'tf_bert_for_sequence_classification/bert/embeddings/token_type_embeddings/embeddings:0',
      'bert.embeddings.token_type_embeddings.weight',
    ],
    [
      'tf_bert_for_sequence_classification_1/bert/embeddings/position_embeddings/embeddings:0',
      'bert.embeddings.position_embeddings.weight',
    ],
    ['tf_bert_for_sequence_classification/bert/embeddings/LayerNorm/gamma:0', 'bert.embeddings.LayerNorm.weight'],
    ['tf_bert_for_sequence_classification/bert/embeddings/LayerNorm/beta:0', 'bert.embeddings.LayerNorm.bias'],
    [
      'tf_bert_for_sequence_classification/bert/encoder/layer_._11/attention/self/query/kernel:0',
      'bert.encoder.layer.11.attention.self.query.weight',
    ],
    [
      'tf_bert_for_sequence_classification/bert/encoder/layer_._0/attention/output/LayerNorm/gamma:0',
      'bert.encoder.layer.0.attention.output.LayerNorm.weight',
    ],
    [
      'tf_bert_for_sequence_classification/bert/encoder/layer_._0/intermediate/dense/bias:0',
      'bert.encoder.layer.0.intermediate.dense.bias',
    ],
    ['tf_bert_for_sequence_classification/bert/pooler/dense/kernel:0', 'bert.pooler.dense.weight'],
    ['tf_bert_for_sequence_classification/classifier/kernel:0', 'classifier.weight'],
    ['tf_bert_for_sequence_classification/classifier/bias:0', 'classifier.bias'],
    // §2.4.2
    [
      'tf_distil_bert_for_sequence_classification/distilbert/transformer/layer_._5/attention/q_lin/kernel:0',
      'distilbert.transformer.layer.5.attention.q_lin.weight',
    ],
    [
      'tf_distil_bert_for_sequence_classification/distilbert/transformer/layer_._0/sa_layer_norm/gamma:0',
      'distilbert.transformer.layer.0.sa_layer_norm.weight',
    ],
    [
      'tf_distil_bert_for_sequence_classification/distilbert/transformer/layer_._0/ffn/lin2/bias:0',
      'distilbert.transformer.layer.0.ffn.lin2.bias',
    ],
    ['tf_distil_bert_for_sequence_classification/pre_classifier/kernel:0', 'pre_classifier.weight'],
    // TF heads named `<x>___<y>` keep `<y>`
    ['tf_bert_for_masked_lm/mlm___cls/predictions/bias:0', 'cls.predictions.bias'],
  ])('should map %s to %s', (tfName, expected) => {
    expect(pyTorchName(tfName)).toBe(expected);
  });

  it('should keep the first component when the names carry no model name (TF-format safetensors)', () => {
    expect(pyTorchName('bert/encoder/layer_._3/output/dense/kernel:0', false)).toBe(
      'bert.encoder.layer.3.output.dense.weight',
    );
    expect(pyTorchName('classifier/kernel:0', false)).toBe('classifier.weight');
  });

  it('should invert the test writer’s PyTorch → Keras names', () => {
    for (const name of [
      'bert.embeddings.word_embeddings.weight',
      'bert.embeddings.position_embeddings.weight',
      'bert.encoder.layer.1.output.LayerNorm.bias',
      'distilbert.transformer.layer.2.output_layer_norm.weight',
      'classifier.weight',
    ]) {
      expect(pyTorchName(`model/${kerasVariable(name).path}:0`)).toBe(name);
    }
  });
});

describe('Keras → PyTorch tensor layout', () => {
  const kernel = { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) };

  it('should transpose a Dense kernel [in, out] to a Linear weight [out, in]', () => {
    const result = toPyTorchLayout('m/classifier/kernel:0', kernel, 'where');
    expect(result.shape).toEqual([3, 2]);
    expect([...result.data]).toEqual([1, 4, 2, 5, 3, 6]);
    expect(result.transposed).toBe(true);
  });

  it('should leave embeddings, LayerNorm vectors and biases as they are', () => {
    for (const name of [
      'm/bert/embeddings/word_embeddings/weight:0',
      'm/bert/embeddings/LayerNorm/gamma:0',
      'm/classifier/bias:0',
    ]) {
      const result = toPyTorchLayout(name, kernel, 'where');
      expect(result.shape).toEqual([2, 3]);
      expect(result.data).toBe(kernel.data);
      expect(result.transposed).toBe(false);
    }
  });

  // H = 4, heads = 2, d = 2: the row-major reshape gives the Dense kernel [4, 4], which is then transposed.
  it.each([
    ['m/bert/encoder/layer_._0/attention/self/query/kernel:0', [4, 2, 2]],
    ['m/bert/encoder/layer_._0/attention/output/dense/kernel:0', [2, 2, 4]],
  ])('should flatten the EinsumDense kernel %s %j to the Dense layout', (name, shape) => {
    const values = Float32Array.from({ length: 16 }, (_, i) => i);
    const result = toPyTorchLayout(name, { shape, data: values }, 'w');
    expect(result.shape).toEqual([4, 4]);
    expect([...result.data]).toEqual([...transpose2d(values, 4, 4)]);
  });

  it('should flatten EinsumDense attention biases [heads, d]', () => {
    const bias = { shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) };
    const result = toPyTorchLayout('m/bert/encoder/layer_._0/attention/self/key/bias:0', bias, 'w');
    expect(result.shape).toEqual([4]);
    expect([...result.data]).toEqual([1, 2, 3, 4]);
  });

  it('should refuse kernels it cannot map, naming the variable', () => {
    expect(() =>
      toPyTorchLayout('m/conv/kernel:0', { shape: [1, 2, 3, 4], data: new Float32Array(24) }, 'f.h5: x'),
    ).toThrow('f.h5: x: kernel of rank 4 [1, 2, 3, 4]; only Dense kernels (rank 2) are supported');
    expect(() =>
      toPyTorchLayout('m/conv1d/kernel:0', { shape: [1, 2, 3], data: new Float32Array(6) }, 'f.h5: y'),
    ).toThrow('f.h5: y: rank-3 kernel [1, 2, 3] is not an attention kernel of TF BERT');
  });
});
