import { GraphBuildError, GraphBuilder } from './graph.js';

describe('IR graph builder', () => {
  it('should scope names and make repeated names unique, TensorFlow-style', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [-1, 4]);
    const names = b.withScope('block', () => [b.mul(x, b.scalar('two', 2)), b.mul(x, b.scalar('two', 2))]);
    b.output('y', b.add(names[0]!, names[1]!));
    const graph = b.build();
    expect(graph.nodes.map((node) => node.name)).toEqual([
      'x',
      'block/two',
      'block/Mul',
      'block/two_1',
      'block/Mul_1',
      'add',
      'y',
    ]);
    expect(graph.inputs.map((v) => v.node)).toEqual(['x']);
    expect(graph.outputs).toEqual([{ node: 'y', dtype: 'float32', shape: [-1, 4] }]);
  });

  it('should infer shapes through broadcasting, matmul, gather, reductions and slices', () => {
    const b = new GraphBuilder();
    const ids = b.input('ids', 'int64', [-1, -1]);
    const table = b.constant('table', [10, 6], new Float32Array(60));
    const embedded = b.gather(table, ids);
    expect(embedded.shape).toEqual([-1, -1, 6]);
    const projected = b.matmul(embedded, b.constant('w', [6, 4], new Float32Array(24)));
    expect(projected.shape).toEqual([-1, -1, 4]);
    expect(b.batchMatmul(projected, projected, { adjointB: true }).shape).toEqual([-1, -1, -1]);
    expect(b.reduceMean(projected).shape).toEqual([-1, -1, 1]);
    expect(b.reduceMean(projected, [1], false).shape).toEqual([-1, 4]);
    expect(b.expandDims(b.cast(ids, 'float32'), 1).shape).toEqual([-1, 1, -1]);
    expect(b.concat([projected, projected], -1).shape).toEqual([-1, -1, 8]);
    expect(b.firstToken(projected).shape).toEqual([-1, 4]);
    expect(b.sliceRowsToLengthOf(table, ids).shape).toEqual([-1, 6]);
    expect(
      b.add(b.constant('row', [1, 4], new Float32Array(4)), b.constant('col', [3, 1], new Float32Array(3))).shape,
    ).toEqual([3, 4]);
  });

  it('should carry the dimension names of graph inputs and outputs, and only of those', () => {
    const b = new GraphBuilder();
    const ids = b.input('ids', 'int64', [-1, -1], ['batch_size', 'sequence_length']);
    const mask = b.input('mask', 'int64', [-1, -1]);
    const table = b.constant('table', [10, 3], new Float32Array(30));
    const looked = b.gather(table, ids);
    expect(looked.dimNames).toBeUndefined();
    b.output('y', b.firstToken(looked), ['batch_size', null]);
    const graph = b.build();
    expect(graph.inputs).toEqual([
      { node: 'ids', dtype: 'int64', shape: [-1, -1], dimNames: ['batch_size', 'sequence_length'] },
      { node: 'mask', dtype: 'int64', shape: [-1, -1] },
    ]);
    expect(mask.dimNames).toBeUndefined();
    expect(graph.outputs).toEqual([{ node: 'y', dtype: 'float32', shape: [-1, 3], dimNames: ['batch_size', null] }]);
    // The nodes themselves are unchanged by the names.
    expect(graph.nodes.find((node) => node.name === 'ids')).toEqual({
      op: 'input',
      inputs: [],
      name: 'ids',
      dtype: 'int64',
      shape: [-1, -1],
    });
  });

  it('should reject dimension names that do not fit the shape', () => {
    const b = new GraphBuilder();
    expect(() => b.input('a', 'int64', [-1, -1], ['batch_size'])).toThrow(/a: 1 dimension names for a rank-2 value/);
    expect(() => b.input('b', 'int64', [-1, 4], [null, 'width'])).toThrow(
      /b: dimension 1 is static \(4\); only run-time \(-1\) dimensions take a name/,
    );
    expect(() => b.input('c', 'int64', [-1], ['batch size'])).toThrow(/c: invalid dimension name "batch size"/);
    const x = b.input('x', 'float32', [-1, 2], ['batch_size', null]);
    expect(() => b.output('y', x, ['batch_size'])).toThrow(/y: 1 dimension names for a rank-2 value/);
    // Nothing was added by the rejected calls.
    b.output('y', x);
    expect(b.build().nodes.map((node) => node.name)).toEqual(['x', 'y']);
  });

  it('should reject inconsistent graphs at build time, naming the node', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [-1, 4]);
    expect(() => b.matmul(x, b.constant('w', [3, 2], new Float32Array(6)))).toThrow(/MatMul: inner dimensions differ/);
    expect(() => b.add(x, b.constant('v', [3], new Float32Array(3)))).toThrow(/add: operands .* cannot be broadcast/);
    expect(() => b.constant('c', [2, 2], new Float32Array(3))).toThrow(
      /constant c: 3 values do not fill shape \[2, 2\]/,
    );
    expect(() => b.concat([x], 0)).toThrow(/at least two values/);
    expect(() => b.gather(x, x)).toThrow(/indices must be int32 or int64/);
    expect(() => b.input('x', 'int32', [1])).toThrow(/duplicate top-level node name "x"/);
    expect(() => b.withScope('bad name', () => 0)).toThrow(GraphBuildError);
    expect(() => new GraphBuilder().build()).toThrow(/at least one input and one output/);
  });
});
