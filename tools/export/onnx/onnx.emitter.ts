/**
 * IR → ONNX graph (default domain, opset 14), using only standard operators, each at the version that opset 14
 * selects: Identity, Gather, Add, Sub, Mul, Div, Pow, Sqrt, Erf, Tanh, Relu, Softmax (axis −1), ReduceMean (axes
 * as an attribute: inputs only from opset 18), MatMul, Transpose, Cast, Unsqueeze (axes as an int64 input, opset
 * 13+), Concat, Shape, Slice.
 *
 * Every IR value keeps its name as the ONNX tensor name: graph inputs are graph inputs, constants are initializers
 * (little-endian `raw_data`), and every other IR node becomes the ONNX node(s) whose last output carries the IR
 * node's name. IR ops without a single ONNX counterpart are lowered to a few nodes named `<ir name>/<role>`:
 *
 *   squaredDifference(a, b) → d = Sub(a, b); Pow(d, <ir name>/two = 2)
 *   matmul with transposes  → Transpose (last two axes) of the flagged operand(s); MatMul
 *   shape (int32)           → Cast(Shape(x), INT32)   (ONNX Shape always yields int64)
 *   expandDims(x, axis)     → Unsqueeze(x, <ir name>/axes = int64 [axis])
 *
 * The IR's node order is topological, and each lowering emits its helper nodes before the node they feed, so the
 * ONNX node list is topological too, as ONNX requires. Attributes carry their `type`; a zero value (Gather's axis 0,
 * keepdims 0) is left off the wire by proto3, as in files the PyTorch exporter writes, and read back as 0.
 */
import {
  type ConstData,
  type DType,
  type IrGraph,
  type IrNode,
  isFullyDefined,
  littleEndianBytes,
  type Value,
} from '../ir/graph.js';
import {
  type AttributeJson,
  type GraphJson,
  type NodeJson,
  onnxDataType,
  type OnnxDataTypeName,
  type TensorJson,
  type ValueInfoJson,
} from './onnx-proto.js';

/** The ONNX operator set the emitted graphs import (domain ""), as Hugging Face Optimum exports BERT by default. */
export const ONNX_OPSET = 14;

const DATA_TYPES: Readonly<Record<DType, OnnxDataTypeName>> = {
  float32: 'FLOAT',
  int32: 'INT32',
  int64: 'INT64',
  bool: 'BOOL',
};

export function onnxElemType(dtype: DType): number {
  return onnxDataType(DATA_TYPES[dtype]);
}

/** An initializer: the values as `raw_data`, the only representation written. */
export function tensorProto(name: string, dtype: DType, shape: readonly number[], data: ConstData): TensorJson {
  if (!isFullyDefined(shape)) {
    throw new Error(`${name}: an initializer needs a fully defined shape, got [${shape.join(', ')}]`);
  }
  return { dims: [...shape], dataType: onnxElemType(dtype), name, rawData: littleEndianBytes(data) };
}

/**
 * A graph input or output: its dtype and shape, with a run-time dimension written as its IR name (`dim_param`,
 * e.g. `batch_size`) or, unnamed, as a dimension with neither value nor name.
 */
export function valueInfo(value: Value): ValueInfoJson {
  const dim = value.shape.map((size, i) => {
    if (size >= 0) {
      return { dimValue: size };
    }
    const name = value.dimNames?.[i];
    return typeof name === 'string' ? { dimParam: name } : {};
  });
  return { name: value.node, type: { tensorType: { elemType: onnxElemType(value.dtype), shape: { dim } } } };
}

const int = (name: string, i: number): AttributeJson => ({ name, type: 'INT', i });
const ints = (name: string, values: readonly number[]): AttributeJson => ({ name, type: 'INTS', ints: [...values] });

function node(
  name: string,
  opType: string,
  input: readonly string[],
  output: string,
  attribute: readonly AttributeJson[] = [],
): NodeJson {
  const proto: NodeJson = { input: [...input], output: [output], name, opType };
  if (attribute.length > 0) {
    // Sorted by name, so the serialized node is canonical.
    proto.attribute = [...attribute].sort((a, b) => {
      const [x, y] = [a.name ?? '', b.name ?? ''];
      return x < y ? -1 : x > y ? 1 : 0;
    });
  }
  return proto;
}

const BINARY_OPS = { add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div' } as const;
const UNARY_OPS = { sqrt: 'Sqrt', erf: 'Erf', tanh: 'Tanh', relu: 'Relu' } as const;

interface Lowering {
  readonly nodes: NodeJson[];
  readonly initializers: TensorJson[];
}

/** The ONNX nodes (and helper initializers) computing one IR node; the last node's output is the IR node's name. */
function lowerNode(n: IrNode, byName: ReadonlyMap<string, IrNode>): Lowering {
  const input = (i: number): IrNode => {
    const name = n.inputs[i];
    const found = name === undefined ? undefined : byName.get(name);
    if (found === undefined) {
      throw new Error(`${n.name}: operand ${i} is missing`);
    }
    return found;
  };
  const only = (...nodes: NodeJson[]): Lowering => ({ nodes, initializers: [] });
  const helper = (role: string) => `${n.name}/${role}`;
  switch (n.op) {
    case 'input':
      return only();
    case 'constant':
      return { nodes: [], initializers: [tensorProto(n.name, n.dtype, n.shape, n.data)] };
    case 'identity':
      return only(node(n.name, 'Identity', n.inputs, n.name));
    case 'gather':
      return only(node(n.name, 'Gather', n.inputs, n.name, [int('axis', n.axis)]));
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
      return only(node(n.name, BINARY_OPS[n.op], n.inputs, n.name));
    case 'squaredDifference': {
      const difference = helper('difference');
      const two = tensorProto(helper('two'), 'float32', [], Float32Array.of(2));
      return {
        nodes: [
          node(difference, 'Sub', n.inputs, difference),
          node(n.name, 'Pow', [difference, two.name as string], n.name),
        ],
        initializers: [two],
      };
    }
    case 'sqrt':
    case 'erf':
    case 'tanh':
    case 'relu':
      return only(node(n.name, UNARY_OPS[n.op], n.inputs, n.name));
    case 'softmax':
      // Softmax-13: normalizes along this one axis (earlier versions flattened every axis from `axis` on).
      return only(node(n.name, 'Softmax', n.inputs, n.name, [int('axis', -1)]));
    case 'reduceMean':
      return only(
        node(n.name, 'ReduceMean', n.inputs, n.name, [ints('axes', n.axes), int('keepdims', n.keepDims ? 1 : 0)]),
      );
    case 'matmul': {
      const operands = n.inputs.map((name, i) => {
        const transpose = i === 0 ? n.transposeA : n.transposeB;
        if (!transpose) {
          return { name, nodes: [] };
        }
        const rank = input(i).shape.length;
        const perm = [...Array.from({ length: rank - 2 }, (_, axis) => axis), rank - 1, rank - 2];
        const transposed = helper(i === 0 ? 'transpose_a' : 'transpose_b');
        return { name: transposed, nodes: [node(transposed, 'Transpose', [name], transposed, [ints('perm', perm)])] };
      });
      return only(
        ...operands.flatMap((operand) => operand.nodes),
        node(
          n.name,
          'MatMul',
          operands.map((operand) => operand.name),
          n.name,
        ),
      );
    }
    case 'cast':
      return only(node(n.name, 'Cast', n.inputs, n.name, [int('to', onnxElemType(n.dtype))]));
    case 'expandDims': {
      const axes = tensorProto(helper('axes'), 'int64', [1], BigInt64Array.of(BigInt(n.axis)));
      return { nodes: [node(n.name, 'Unsqueeze', [...n.inputs, axes.name as string], n.name)], initializers: [axes] };
    }
    case 'concat':
      return only(node(n.name, 'Concat', n.inputs, n.name, [int('axis', n.axis)]));
    case 'shape': {
      if (n.dtype === 'int64') {
        return only(node(n.name, 'Shape', n.inputs, n.name));
      }
      if (n.dtype !== 'int32') {
        throw new Error(`${n.name}: a shape is int32 or int64, not ${n.dtype}`);
      }
      const shape = helper('int64');
      return only(
        node(shape, 'Shape', n.inputs, shape),
        node(n.name, 'Cast', [shape], n.name, [int('to', onnxElemType('int32'))]),
      );
    }
    case 'slice': {
      // Slice-13 with `axes` and `steps` omitted: axes 0..len(starts)-1, step 1, exactly the IR's slice.
      if (input(1).dtype !== input(2).dtype) {
        throw new Error(`${n.name}: slice bounds must share one integer dtype`);
      }
      return only(node(n.name, 'Slice', n.inputs, n.name));
    }
    default: {
      const unknown: never = n;
      throw new Error(`no ONNX lowering for IR node ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * Lowers an IR graph to an ONNX `GraphProto`: nodes in topological order, constants as initializers, the IR's
 * graph inputs and outputs (with their dimension names) as the graph's. Throws if two tensors or two nodes would
 * share a name.
 */
export function emitOnnxGraph(graph: IrGraph, name: string): GraphJson {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const nodes: NodeJson[] = [];
  const initializers: TensorJson[] = [];
  for (const n of graph.nodes) {
    const lowered = lowerNode(n, byName);
    nodes.push(...lowered.nodes);
    initializers.push(...lowered.initializers);
  }
  const tensors = [
    ...graph.inputs.map((value) => value.node),
    ...initializers.map((tensor) => tensor.name ?? ''),
    ...nodes.flatMap((n) => n.output ?? []),
  ];
  for (const [kind, names] of [
    ['tensor', tensors],
    ['node', nodes.map((n) => n.name ?? '')],
  ] as const) {
    const seen = new Set<string>();
    for (const tensorOrNode of names) {
      if (seen.has(tensorOrNode)) {
        throw new Error(`duplicate ONNX ${kind} name "${tensorOrNode}"`);
      }
      seen.add(tensorOrNode);
    }
  }
  return {
    node: nodes,
    name,
    initializer: initializers,
    input: graph.inputs.map(valueInfo),
    output: graph.outputs.map(valueInfo),
  };
}
