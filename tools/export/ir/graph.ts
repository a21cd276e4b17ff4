/**
 * A small, backend-neutral intermediate representation (IR) of an inference graph.
 *
 * Architectures (BERT, DistilBERT, ...) are described once with `GraphBuilder`; emitters turn the result into a
 * TensorFlow GraphDef (tools/export/tf/) or an ONNX graph (tools/export/onnx/). The IR is deliberately
 * primitive-level: every node is one tensor operation with one output, every static parameter (axis, transpose
 * flags) is a plain attribute, and every tensor carries a dtype and a static shape (`-1` = known only at run
 * time). Graph inputs and outputs may also name their run-time dimensions (`batch_size`, `sequence_length`), for
 * formats that declare them (ONNX `dim_param`); formats that do not (a TF signature) ignore the names. Nothing here
 * knows about protobuf, TensorFlow op names or ONNX opsets.
 */

export type DType = 'float32' | 'int32' | 'int64' | 'bool';

/** Static shape; `-1` marks a dimension known only at run time (batch, sequence length). */
export type Shape = readonly number[];

export type ConstData = Float32Array | Int32Array | BigInt64Array;

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Constant values as raw little-endian bytes (what ONNX `raw_data` and TF `tensor_content` hold), on any host. */
export function littleEndianBytes(data: ConstData): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  }
  const bytes = new Uint8Array(data.byteLength);
  const view = new DataView(bytes.buffer);
  if (data instanceof Float32Array) {
    data.forEach((value, i) => view.setFloat32(4 * i, value, true));
  } else if (data instanceof Int32Array) {
    data.forEach((value, i) => view.setInt32(4 * i, value, true));
  } else {
    data.forEach((value, i) => view.setBigInt64(8 * i, value, true));
  }
  return bytes;
}

/**
 * Names of a value's dimensions, one entry per axis: a name for a run-time (`-1`) dimension, `null` for a dimension
 * left unnamed. Dimensions sharing a name have the same size at run time (e.g. `batch_size` on every input and on
 * the output).
 */
export type DimNames = readonly (string | null)[];

/** The (single) output of a node, as architectures see it. */
export interface Value {
  readonly node: string;
  readonly dtype: DType;
  readonly shape: Shape;
  /** Set only on graph inputs and outputs declared with dimension names (`GraphBuilder.input` / `output`). */
  readonly dimNames?: DimNames;
}

interface NodeBase {
  /** Unique, deterministic, `/`-separated name, e.g. `bert/encoder/layer_0/attention/self/head_0/query/MatMul`. */
  readonly name: string;
  /** Names of the nodes whose outputs this node consumes, in operand order. */
  readonly inputs: readonly string[];
  readonly dtype: DType;
  readonly shape: Shape;
}

/**
 * Every IR operation. Broadcasting follows NumPy rules; axes may be negative (counted from the end).
 * - `matmul`: NumPy `matmul` semantics (rank ≥ 2, batch dims broadcast), with optional transposes of the last two axes.
 * - `gather`: `take(params, indices, axis)`; a scalar index drops the axis.
 * - `relu`: `max(x, 0)`.
 * - `softmax`: over the last axis.
 * - `cast`: to the node's `dtype`.
 * - `shape`: the runtime shape of the input as a 1-D tensor of the node's dtype (int32 or int64).
 * - `slice`: `x[begin[0]:end[0], begin[1]:end[1], ...]` over the leading `len(begin)` axes, step 1, where `begin` and
 *   `end` are 1-D integer tensors (inputs 1 and 2) of equal length; axes after those are kept whole.
 */
export type IrNode = NodeBase &
  (
    | { readonly op: 'input' }
    | { readonly op: 'constant'; readonly data: ConstData }
    | { readonly op: 'identity' }
    | { readonly op: 'gather'; readonly axis: number }
    | { readonly op: 'add' | 'sub' | 'mul' | 'div' | 'squaredDifference' }
    | { readonly op: 'sqrt' | 'erf' | 'tanh' | 'relu' | 'softmax' }
    | { readonly op: 'reduceMean'; readonly axes: readonly number[]; readonly keepDims: boolean }
    | { readonly op: 'matmul'; readonly transposeA: boolean; readonly transposeB: boolean }
    | { readonly op: 'cast' }
    | { readonly op: 'expandDims'; readonly axis: number }
    | { readonly op: 'concat'; readonly axis: number }
    | { readonly op: 'shape' }
    | { readonly op: 'slice' }
  );

export type IrOp = IrNode['op'];

/** A finished graph: nodes in topological order, the graph inputs, and the named outputs. */
export interface IrGraph {
  readonly nodes: readonly IrNode[];
  readonly inputs: readonly Value[];
  /** Output name → value; each output is an `identity` node carrying exactly that name. */
  readonly outputs: readonly Value[];
}

export class GraphBuildError extends Error {
  override readonly name = 'GraphBuildError';
}

type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'squaredDifference';
type UnaryOp = 'sqrt' | 'erf' | 'tanh' | 'relu' | 'softmax';

/** Distributes the `IrNode` union over its members, so `Omit` keeps each member's own fields. */
type NodeSpec = IrNode extends infer N ? (N extends IrNode ? Omit<N, 'name' | 'dtype' | 'shape'> : never) : never;

const NAME_PART = /^[A-Za-z0-9.][A-Za-z0-9_.-]*$/;
/** A dimension name: an identifier, as ONNX exporters write `dim_param`. */
const DIM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function numElements(shape: Shape): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

export function isFullyDefined(shape: Shape): boolean {
  return shape.every((dim) => Number.isInteger(dim) && dim >= 0);
}

function formatShape(shape: Shape): string {
  return `[${shape.map((dim) => (dim < 0 ? '?' : String(dim))).join(', ')}]`;
}

function normalizeAxis(axis: number, rank: number, what: string): number {
  const normalized = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || normalized < 0 || normalized >= rank) {
    throw new GraphBuildError(`${what}: axis ${axis} is out of range for rank ${rank}`);
  }
  return normalized;
}

/** One dimension of a NumPy broadcast; `-1` (unknown) against a known size > 1 gives that size. */
function broadcastDim(a: number, b: number, what: string): number {
  if (a === b) {
    return a;
  }
  if (a === 1) {
    return b;
  }
  if (b === 1) {
    return a;
  }
  if (a < 0) {
    return b;
  }
  if (b < 0) {
    return a;
  }
  throw new GraphBuildError(`${what}: dimensions ${a} and ${b} cannot be broadcast`);
}

function broadcastShapes(a: Shape, b: Shape, what: string): number[] {
  const rank = Math.max(a.length, b.length);
  const result: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    result.push(broadcastDim(da, db, `${what} ${formatShape(a)} and ${formatShape(b)}`));
  }
  return result;
}

function dataDType(data: ConstData): DType {
  if (data instanceof Float32Array) {
    return 'float32';
  }
  return data instanceof Int32Array ? 'int32' : 'int64';
}

/**
 * Builds an `IrGraph` node by node. Names are scoped (`withScope`) and made unique TensorFlow-style (`Mul`, `Mul_1`,
 * ...), so a deterministic architecture gives deterministic names. Shapes are inferred and checked as nodes are
 * added, so a wrong weight layout fails at build time with the node name, not at serving time.
 */
export class GraphBuilder {
  private readonly nodes: IrNode[] = [];
  private readonly byName = new Map<string, IrNode>();
  private readonly inputs: Value[] = [];
  private readonly outputs: Value[] = [];
  private readonly scopes: string[] = [];

  /** Runs `body` with `name` appended to the current name scope. */
  withScope<T>(name: string, body: () => T): T {
    this.checkName(name);
    this.scopes.push(name);
    try {
      return body();
    } finally {
      this.scopes.pop();
    }
  }

  /**
   * A graph input (top-level name, never scoped), e.g. `input_ids` int64 [-1, -1], optionally with names for its
   * run-time dimensions, e.g. `['batch_size', 'sequence_length']`.
   */
  input(name: string, dtype: DType, shape: Shape, dimNames?: DimNames): Value {
    this.checkDimNames(name, shape, dimNames);
    const value = this.withDimNames(this.addNode({ op: 'input', inputs: [] }, name, dtype, shape, false), dimNames);
    this.inputs.push(value);
    return value;
  }

  constant(name: string, shape: Shape, data: ConstData): Value {
    if (!isFullyDefined(shape)) {
      throw new GraphBuildError(`constant ${name}: shape ${formatShape(shape)} must be fully defined`);
    }
    if (data.length !== numElements(shape)) {
      throw new GraphBuildError(
        `constant ${name}: ${data.length} values do not fill shape ${formatShape(shape)} (${numElements(shape)} elements)`,
      );
    }
    return this.addNode({ op: 'constant', inputs: [], data }, name, dataDType(data), shape);
  }

  /** A float32 scalar constant (rounded to float32 here, once). */
  scalar(name: string, value: number): Value {
    return this.constant(name, [], Float32Array.of(value));
  }

  /** An int32 constant: a scalar for a number, a 1-D tensor for an array. */
  int32(name: string, value: number | readonly number[]): Value {
    return typeof value === 'number'
      ? this.constant(name, [], Int32Array.of(value))
      : this.constant(name, [value.length], Int32Array.from(value));
  }

  gather(params: Value, indices: Value, axis = 0, name = 'GatherV2'): Value {
    if (indices.dtype !== 'int32' && indices.dtype !== 'int64') {
      throw new GraphBuildError(`${this.scoped(name)}: gather indices must be int32 or int64, got ${indices.dtype}`);
    }
    const a = normalizeAxis(axis, params.shape.length, this.scoped(name));
    const shape = [...params.shape.slice(0, a), ...indices.shape, ...params.shape.slice(a + 1)];
    return this.addNode({ op: 'gather', inputs: [params.node, indices.node], axis }, name, params.dtype, shape);
  }

  add(a: Value, b: Value, name = 'add'): Value {
    return this.binary('add', a, b, name);
  }

  sub(a: Value, b: Value, name = 'sub'): Value {
    return this.binary('sub', a, b, name);
  }

  mul(a: Value, b: Value, name = 'Mul'): Value {
    return this.binary('mul', a, b, name);
  }

  div(a: Value, b: Value, name = 'truediv'): Value {
    return this.binary('div', a, b, name);
  }

  squaredDifference(a: Value, b: Value, name = 'SquaredDifference'): Value {
    return this.binary('squaredDifference', a, b, name);
  }

  sqrt(x: Value, name = 'Sqrt'): Value {
    return this.unary('sqrt', x, name);
  }

  erf(x: Value, name = 'Erf'): Value {
    return this.unary('erf', x, name);
  }

  tanh(x: Value, name = 'Tanh'): Value {
    return this.unary('tanh', x, name);
  }

  /** `max(x, 0)`. */
  relu(x: Value, name = 'Relu'): Value {
    return this.unary('relu', x, name);
  }

  /** Softmax over the last axis. */
  softmax(x: Value, name = 'Softmax'): Value {
    return this.unary('softmax', x, name);
  }

  reduceMean(x: Value, axes: readonly number[] = [-1], keepDims = true, name = 'Mean'): Value {
    this.requireFloat(x, name);
    const normalized = axes.map((axis) => normalizeAxis(axis, x.shape.length, this.scoped(name)));
    const shape = keepDims
      ? x.shape.map((dim, i) => (normalized.includes(i) ? 1 : dim))
      : x.shape.filter((_, i) => !normalized.includes(i));
    return this.addNode({ op: 'reduceMean', inputs: [x.node], axes: [...axes], keepDims }, name, x.dtype, shape);
  }

  /** `x · w` with `w` a rank-2 `[in, out]` matrix and `x` of rank ≥ 2 (`[..., in]`). */
  matmul(x: Value, w: Value, name = 'MatMul'): Value {
    if (w.shape.length !== 2) {
      throw new GraphBuildError(
        `${this.scoped(name)}: the weight must be rank 2 [in, out], got ${formatShape(w.shape)}`,
      );
    }
    return this.batchMatmul(x, w, { name });
  }

  /** NumPy `matmul` of `a` and `b` (rank ≥ 2, batch dims broadcast); `adjointB` transposes `b`'s last two axes. */
  batchMatmul(a: Value, b: Value, options: { adjointA?: boolean; adjointB?: boolean; name?: string } = {}): Value {
    const name = options.name ?? 'MatMul';
    const what = this.scoped(name);
    const transposeA = options.adjointA ?? false;
    const transposeB = options.adjointB ?? false;
    if (a.shape.length < 2 || b.shape.length < 2) {
      throw new GraphBuildError(
        `${what}: matmul needs rank ≥ 2, got ${formatShape(a.shape)} · ${formatShape(b.shape)}`,
      );
    }
    if (a.dtype !== b.dtype) {
      throw new GraphBuildError(`${what}: operand dtypes differ (${a.dtype} vs ${b.dtype})`);
    }
    const [m, ka] = lastTwo(a.shape, transposeA);
    const [kb, n] = lastTwo(b.shape, transposeB);
    if (ka >= 0 && kb >= 0 && ka !== kb) {
      throw new GraphBuildError(
        `${what}: inner dimensions differ: ${formatShape(a.shape)}${transposeA ? 'ᵀ' : ''} · ${formatShape(b.shape)}${transposeB ? 'ᵀ' : ''}`,
      );
    }
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), `${what}: batch dimensions`);
    return this.addNode({ op: 'matmul', inputs: [a.node, b.node], transposeA, transposeB }, name, a.dtype, [
      ...batch,
      m,
      n,
    ]);
  }

  cast(x: Value, to: DType, name = 'Cast'): Value {
    return this.addNode({ op: 'cast', inputs: [x.node] }, name, to, x.shape);
  }

  expandDims(x: Value, axis: number, name = 'ExpandDims'): Value {
    const a = normalizeAxis(axis, x.shape.length + 1, this.scoped(name));
    const shape = [...x.shape.slice(0, a), 1, ...x.shape.slice(a)];
    return this.addNode({ op: 'expandDims', inputs: [x.node], axis }, name, x.dtype, shape);
  }

  concat(values: readonly Value[], axis: number, name = 'concat'): Value {
    const what = this.scoped(name);
    const first = values[0];
    if (first === undefined || values.length < 2) {
      throw new GraphBuildError(`${what}: concat needs at least two values`);
    }
    const a = normalizeAxis(axis, first.shape.length, what);
    const shape = [...first.shape];
    for (const value of values.slice(1)) {
      if (value.dtype !== first.dtype || value.shape.length !== first.shape.length) {
        throw new GraphBuildError(`${what}: concat operands differ in dtype or rank`);
      }
      value.shape.forEach((dim, i) => {
        const current = shape[i] as number;
        if (i === a) {
          shape[i] = current < 0 || dim < 0 ? -1 : current + dim;
        } else if (current >= 0 && dim >= 0 && current !== dim) {
          throw new GraphBuildError(`${what}: concat operands differ in dimension ${i} (${current} vs ${dim})`);
        } else if (current < 0) {
          shape[i] = dim;
        }
      });
    }
    return this.addNode({ op: 'concat', inputs: values.map((value) => value.node), axis }, name, first.dtype, shape);
  }

  /** The runtime shape of `x` as a 1-D integer tensor. */
  shape(x: Value, dtype: 'int32' | 'int64' = 'int32', name = 'Shape'): Value {
    return this.addNode({ op: 'shape', inputs: [x.node] }, name, dtype, [x.shape.length]);
  }

  /** `x[begin[i]:end[i]]` over the leading `len(begin)` axes (step 1); `begin`/`end` are 1-D integer tensors. */
  slice(x: Value, begin: Value, end: Value, name = 'StridedSlice'): Value {
    const what = this.scoped(name);
    const count = begin.shape[0];
    if (
      begin.shape.length !== 1 ||
      end.shape.length !== 1 ||
      count === undefined ||
      count < 0 ||
      end.shape[0] !== count ||
      begin.dtype !== end.dtype ||
      (begin.dtype !== 'int32' && begin.dtype !== 'int64')
    ) {
      throw new GraphBuildError(`${what}: begin and end must be 1-D int32/int64 tensors of the same known length`);
    }
    if (count > x.shape.length) {
      throw new GraphBuildError(`${what}: slices ${count} axes of a rank-${x.shape.length} tensor`);
    }
    const begins = this.constantValues(begin);
    const ends = this.constantValues(end);
    const shape = x.shape.map((dim, i) => {
      if (i >= count) {
        return dim;
      }
      const from = begins?.[i];
      const to = ends?.[i];
      // Exact only for constant, non-negative bounds on a known dimension (clamped as NumPy/TF do); else unknown.
      if (dim < 0 || from === undefined || to === undefined || from < 0 || to < 0) {
        return -1;
      }
      return Math.max(0, Math.min(to, dim) - Math.min(from, dim));
    });
    return this.addNode({ op: 'slice', inputs: [x.node, begin.node, end.node] }, name, x.dtype, shape);
  }

  /**
   * `table[:ref.shape[axis]]`: the first rows of `table`, as many as `ref` has along `axis` (position embeddings
   * for the current sequence length). Emitted as Shape → slice → slice.
   */
  sliceRowsToLengthOf(table: Value, ref: Value, axis = 1, name = 'slice_to_length'): Value {
    return this.withScope(name, () => {
      const a = normalizeAxis(axis, ref.shape.length, this.scoped('Shape'));
      const refShape = this.shape(ref, 'int32');
      const length = this.slice(refShape, this.int32('begin', [a]), this.int32('end', [a + 1]), 'length');
      return this.slice(table, this.int32('rows_begin', [0]), length, 'rows');
    });
  }

  /** `h[:, 0, :]`: the first token of every sequence (BERT's [CLS]), as a gather of index 0 on axis 1. */
  firstToken(h: Value, name = 'first_token'): Value {
    return this.withScope(name, () => this.gather(h, this.int32('index', 0), 1));
  }

  /**
   * Names a graph output: an identity node called exactly `name` (no scope), e.g. `logits`, optionally with names
   * for its run-time dimensions, e.g. `['batch_size', null]`.
   */
  output(name: string, value: Value, dimNames?: DimNames): Value {
    this.checkDimNames(name, value.shape, dimNames);
    const out = this.withDimNames(
      this.addNode({ op: 'identity', inputs: [value.node] }, name, value.dtype, value.shape, false),
      dimNames,
    );
    this.outputs.push(out);
    return out;
  }

  build(): IrGraph {
    if (this.inputs.length === 0 || this.outputs.length === 0) {
      throw new GraphBuildError('a graph needs at least one input and one output');
    }
    return { nodes: [...this.nodes], inputs: [...this.inputs], outputs: [...this.outputs] };
  }

  private binary(op: BinaryOp, a: Value, b: Value, name: string): Value {
    if (a.dtype !== b.dtype) {
      throw new GraphBuildError(`${this.scoped(name)}: operand dtypes differ (${a.dtype} vs ${b.dtype})`);
    }
    const shape = broadcastShapes(a.shape, b.shape, `${this.scoped(name)}: operands`);
    return this.addNode({ op, inputs: [a.node, b.node] }, name, a.dtype, shape);
  }

  private unary(op: UnaryOp, x: Value, name: string): Value {
    this.requireFloat(x, name);
    return this.addNode({ op, inputs: [x.node] }, name, x.dtype, x.shape);
  }

  private requireFloat(x: Value, name: string): void {
    if (x.dtype !== 'float32') {
      throw new GraphBuildError(`${this.scoped(name)}: expects float32, got ${x.dtype}`);
    }
  }

  /** The values of an integer constant node, or undefined for anything computed at run time. */
  private constantValues(value: Value): number[] | undefined {
    const node = this.byName.get(value.node);
    return node?.op === 'constant' && node.data instanceof Int32Array ? Array.from(node.data) : undefined;
  }

  private checkDimNames(name: string, shape: Shape, dimNames: DimNames | undefined): void {
    if (dimNames === undefined) {
      return;
    }
    if (dimNames.length !== shape.length) {
      throw new GraphBuildError(`${name}: ${dimNames.length} dimension names for a rank-${shape.length} value`);
    }
    dimNames.forEach((dimName, i) => {
      if (dimName === null) {
        return;
      }
      if (!DIM_NAME.test(dimName)) {
        throw new GraphBuildError(`${name}: invalid dimension name "${dimName}" (allowed: [A-Za-z_][A-Za-z0-9_]*)`);
      }
      if ((shape[i] as number) >= 0) {
        throw new GraphBuildError(
          `${name}: dimension ${i} is static (${shape[i]}); only run-time (-1) dimensions take a name`,
        );
      }
    });
  }

  private withDimNames(value: Value, dimNames: DimNames | undefined): Value {
    return dimNames === undefined ? value : { ...value, dimNames: [...dimNames] };
  }

  private scoped(name: string): string {
    return [...this.scopes, name].join('/');
  }

  private checkName(name: string): void {
    if (!NAME_PART.test(name)) {
      throw new GraphBuildError(`invalid node name part "${name}" (allowed: [A-Za-z0-9.][A-Za-z0-9_.-]*)`);
    }
  }

  private addNode(spec: NodeSpec, name: string, dtype: DType, shape: Shape, scoped = true): Value {
    this.checkName(name);
    for (const input of spec.inputs) {
      if (!this.byName.has(input)) {
        throw new GraphBuildError(`${name}: input ${input} is not a node of this graph`);
      }
    }
    const base = scoped ? this.scoped(name) : name;
    let unique = base;
    for (let i = 1; this.byName.has(unique); i++) {
      if (!scoped) {
        throw new GraphBuildError(`duplicate top-level node name "${name}"`);
      }
      unique = `${base}_${i}`;
    }
    const node = { ...spec, name: unique, dtype, shape: [...shape] } as IrNode;
    this.nodes.push(node);
    this.byName.set(unique, node);
    return { node: unique, dtype, shape: node.shape };
  }
}

function lastTwo(shape: Shape, transpose: boolean): [number, number] {
  const rows = shape[shape.length - 2] as number;
  const cols = shape[shape.length - 1] as number;
  return transpose ? [cols, rows] : [rows, cols];
}
