/**
 * IR → TensorFlow GraphDef nodes, using only long-registered TF ops with every required attr set:
 * Placeholder, Const, Identity, GatherV2, AddV2, Sub, Mul, RealDiv, SquaredDifference, Mean, Sqrt, Erf, Tanh,
 * Relu, Softmax, MatMul, BatchMatMulV2, Cast, ExpandDims, ConcatV2, Shape, StridedSlice. No Assert (or any other
 * stateful/control op), no attrs that only recent TF versions know (`grad_x`/`grad_y`, `batch_dims`, `Truncate`
 * are left to their defaults), and index operands (axes, dims, strides) are int32 Consts whose dtype matches the
 * `Tidx`/`Tdim`/`Taxis`/`Index` attr of the node reading them.
 */
import {
  type ConstData,
  type DType,
  type IrGraph,
  type IrNode,
  isFullyDefined,
  littleEndianBytes,
  type Shape,
} from '../ir/graph.js';
import type { AttrValueJson, DataTypeName, NodeDefJson, TensorProtoJson, TensorShapeJson } from './tensorflow-proto.js';

const DATA_TYPES: Readonly<Record<DType, DataTypeName>> = {
  float32: 'DT_FLOAT',
  int32: 'DT_INT32',
  int64: 'DT_INT64',
  bool: 'DT_BOOL',
};

/** Integer constants up to this many elements are written as `int_val`; everything else as `tensor_content`. */
const MAX_INT_VAL_ELEMENTS = 16;

export function tfDataType(dtype: DType): DataTypeName {
  return DATA_TYPES[dtype];
}

export function tensorShape(shape: Shape): TensorShapeJson {
  return { dim: shape.map((size) => ({ size })) };
}

export function tensorProto(dtype: DType, shape: Shape, data: ConstData): TensorProtoJson {
  if (!isFullyDefined(shape)) {
    throw new Error(`a constant needs a fully defined shape, got [${shape.join(', ')}]`);
  }
  const proto: TensorProtoJson = { dtype: tfDataType(dtype), tensorShape: tensorShape(shape) };
  if (data instanceof Int32Array && data.length <= MAX_INT_VAL_ELEMENTS) {
    proto.intVal = Array.from(data);
  } else {
    proto.tensorContent = littleEndianBytes(data);
  }
  return proto;
}

const type = (dtype: DType): AttrValueJson => ({ type: tfDataType(dtype) });
const bool = (b: boolean): AttrValueJson => ({ b });

/** Attrs in sorted key order, so the serialized map is canonical. */
function attrs(entries: Record<string, AttrValueJson>): Record<string, AttrValueJson> {
  return Object.fromEntries(Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function node(name: string, op: string, input: readonly string[], attr: Record<string, AttrValueJson>): NodeDefJson {
  return { name, op, input: [...input], attr: attrs(attr) };
}

/** An int32 Const feeding an index operand of `owner`, named `<owner>/<role>`. */
function indexConst(owner: string, role: string, values: number | readonly number[]): NodeDefJson {
  const data = Int32Array.from(typeof values === 'number' ? [values] : values);
  const shape = typeof values === 'number' ? [] : [values.length];
  return node(`${owner}/${role}`, 'Const', [], {
    dtype: type('int32'),
    value: { tensor: tensorProto('int32', shape, data) },
  });
}

const BINARY_OPS = { add: 'AddV2', sub: 'Sub', mul: 'Mul', div: 'RealDiv', squaredDifference: 'SquaredDifference' };
const UNARY_OPS = { sqrt: 'Sqrt', erf: 'Erf', tanh: 'Tanh', relu: 'Relu', softmax: 'Softmax' };

/** The NodeDefs for one IR node: helper Consts first, then the node itself under the IR node's name. */
function emitNode(n: IrNode, byName: ReadonlyMap<string, IrNode>): NodeDefJson[] {
  const input = (i: number): IrNode => {
    const name = n.inputs[i];
    const found = name === undefined ? undefined : byName.get(name);
    if (found === undefined) {
      throw new Error(`${n.name}: operand ${i} is missing`);
    }
    return found;
  };
  switch (n.op) {
    case 'input':
      return [node(n.name, 'Placeholder', [], { dtype: type(n.dtype), shape: { shape: tensorShape(n.shape) } })];
    case 'constant':
      return [
        node(n.name, 'Const', [], { dtype: type(n.dtype), value: { tensor: tensorProto(n.dtype, n.shape, n.data) } }),
      ];
    case 'identity':
      return [node(n.name, 'Identity', n.inputs, { T: type(n.dtype) })];
    case 'gather': {
      const axis = indexConst(n.name, 'axis', n.axis);
      return [
        axis,
        node(n.name, 'GatherV2', [...n.inputs, axis.name], {
          Taxis: type('int32'),
          Tindices: type(input(1).dtype),
          Tparams: type(n.dtype),
        }),
      ];
    }
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
    case 'squaredDifference':
      return [node(n.name, BINARY_OPS[n.op], n.inputs, { T: type(n.dtype) })];
    case 'sqrt':
    case 'erf':
    case 'tanh':
    case 'relu':
    case 'softmax':
      return [node(n.name, UNARY_OPS[n.op], n.inputs, { T: type(n.dtype) })];
    case 'reduceMean': {
      const axes = indexConst(n.name, 'reduction_indices', n.axes);
      return [
        axes,
        node(n.name, 'Mean', [...n.inputs, axes.name], {
          T: type(n.dtype),
          Tidx: type('int32'),
          keep_dims: bool(n.keepDims),
        }),
      ];
    }
    case 'matmul': {
      const rank2 = input(0).shape.length === 2 && input(1).shape.length === 2;
      return rank2
        ? [
            node(n.name, 'MatMul', n.inputs, {
              T: type(n.dtype),
              transpose_a: bool(n.transposeA),
              transpose_b: bool(n.transposeB),
            }),
          ]
        : [
            node(n.name, 'BatchMatMulV2', n.inputs, {
              T: type(n.dtype),
              adj_x: bool(n.transposeA),
              adj_y: bool(n.transposeB),
            }),
          ];
    }
    case 'cast':
      return [node(n.name, 'Cast', n.inputs, { DstT: type(n.dtype), SrcT: type(input(0).dtype) })];
    case 'expandDims': {
      const dim = indexConst(n.name, 'dim', n.axis);
      return [dim, node(n.name, 'ExpandDims', [...n.inputs, dim.name], { T: type(n.dtype), Tdim: type('int32') })];
    }
    case 'concat': {
      if (n.inputs.length < 2) {
        throw new Error(`${n.name}: ConcatV2 needs at least two values`);
      }
      const axis = indexConst(n.name, 'axis', n.axis);
      return [
        axis,
        node(n.name, 'ConcatV2', [...n.inputs, axis.name], {
          N: { i: n.inputs.length },
          T: type(n.dtype),
          Tidx: type('int32'),
        }),
      ];
    }
    case 'shape':
      // Shape is not in the reference op table; its registration is `T: type` (required) and
      // `out_type: {int32, int64} = DT_INT32`. Both are written explicitly.
      return [node(n.name, 'Shape', n.inputs, { T: type(input(0).dtype), out_type: type(n.dtype) })];
    case 'slice': {
      const begin = input(1);
      const count = begin.shape[0] ?? 0;
      if (begin.dtype !== 'int32' || input(2).dtype !== 'int32') {
        throw new Error(`${n.name}: slice bounds must be int32 to match the int32 strides Const`);
      }
      const strides = indexConst(n.name, 'strides', new Array<number>(count).fill(1));
      return [
        strides,
        node(n.name, 'StridedSlice', [...n.inputs, strides.name], { Index: type('int32'), T: type(n.dtype) }),
      ];
    }
    default: {
      const unknown: never = n;
      throw new Error(`no TensorFlow lowering for IR node ${JSON.stringify(unknown)}`);
    }
  }
}

/** Lowers an IR graph to GraphDef nodes, in topological order; throws if two nodes would share a name. */
export function emitGraphDefNodes(graph: IrGraph): NodeDefJson[] {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const nodes = graph.nodes.flatMap((n) => emitNode(n, byName));
  const seen = new Set<string>();
  for (const n of nodes) {
    if (seen.has(n.name)) {
      throw new Error(`duplicate GraphDef node name "${n.name}"`);
    }
    seen.add(n.name);
  }
  return nodes;
}
