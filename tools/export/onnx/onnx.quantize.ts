/**
 * Dynamic int8 quantization of an ONNX model, in the "integer operator" form ONNX Runtime's own `quantize_dynamic`
 * writes, with standard operators only (default domain, opset 11 or later):
 *
 *   MatMul(x, W), W a float initializer [K, N]
 *     → DynamicQuantizeLinear(x) → x_q (uint8), x_scale, x_zero_point      one per distinct x, shared by its MatMuls
 *       MatMulInteger(x_q, W_q (int8 [K, N]), x_zero_point, W_zero_point (int8 [N], zeros)) → int32
 *       Mul(x_scale, W_scale [N]) → scale;  Mul(Cast(int32 → float), scale) → the MatMul's output
 *   Gemm(x, W, b), alpha = beta = 1, transA = 0, W [K, N] or, with transB, [N, K]
 *     → the same on W as [K, N], then Add(…, b) → the Gemm's output
 *   Gather(E, ids), axis 0, E a float initializer [V, D]
 *     → Gather(E_q (int8 [V, D]), ids), Gather(E_scale [V, 1], ids); Mul(Cast(…), …) → the Gather's output
 *
 * Weights are symmetric int8 in [−127, 127] with one scale per output column (per row for Gather tables): scale =
 * max |w| / 127. Activations are quantized at run time by DynamicQuantizeLinear (uint8, asymmetric, per tensor).
 * ONNX Runtime fuses each DynamicQuantizeLinear → MatMulInteger → Cast → Mul chain into one DynamicQuantizeMatMul
 * kernel. An initializer is quantized only when every one of its consumers can take the quantized form (no second
 * float copy is kept); initializers that are also graph inputs (overridable) are left alone.
 *
 * x86-64 without VNNI: ONNX Runtime's uint8 × int8 kernel there sums pairs of products in 16 bits and can saturate
 * (its documentation says so); the op-level spec compares ONNX Runtime with a float64 reference and would show it.
 */
import { createHash } from 'node:crypto';
import {
  type AttributeJson,
  decodeModel,
  encodeModel,
  type GraphJson,
  type ModelJson,
  type NodeJson,
  onnxDataType,
  type TensorJson,
} from './onnx-proto.js';

export const INT8_MODEL_FILE = 'model.int8.onnx';
export const QUANTIZATION_METADATA_KEY = 'quantization';
export const QUANTIZATION_DESCRIPTION =
  'dynamic int8: MatMul/Gemm weights per output column, Gather tables per row (symmetric, [-127, 127]); activations uint8 per tensor at run time';

const QMAX = 127;
const FLOAT = onnxDataType('FLOAT');
const INT8 = onnxDataType('INT8');

export interface QuantizationReport {
  /** MatMul and Gemm nodes now running on int8 weights. */
  readonly matmuls: number;
  readonly gathers: number;
  /** Float weights (elements) replaced by int8. */
  readonly quantizedElements: number;
  /** Float initializers left as they were (biases, LayerNorm, tables also used elsewhere...). */
  readonly floatInitializers: number;
  /** Largest |w − q·scale| / scale over every quantized weight (at most 0.5: the rounding error, in steps). */
  readonly maxRoundingSteps: number;
}

export interface QuantizedModel {
  readonly model: ModelJson;
  readonly report: QuantizationReport;
}

/** A float32 initializer's values, from `raw_data` (little-endian) or `float_data`. */
export function floatValues(tensor: TensorJson): Float32Array {
  const count = (tensor.dims ?? []).reduce((a, b) => a * b, 1);
  if (tensor.rawData !== undefined && tensor.rawData.byteLength > 0) {
    const raw = tensor.rawData;
    if (raw.byteLength !== count * 4) {
      throw new Error(`${tensor.name}: raw_data holds ${raw.byteLength} bytes for ${count} float32 values`);
    }
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(raw);
    if (new Uint8Array(Uint16Array.of(1).buffer)[0] !== 1) {
      throw new Error('big-endian hosts are not supported');
    }
    return out;
  }
  const values = tensor.floatData ?? [];
  if (values.length !== count) {
    throw new Error(`${tensor.name}: float_data holds ${values.length} values for ${count}`);
  }
  return Float32Array.from(values);
}

/** Rounds half to even, as ONNX Runtime's quantizer (numpy's rint) and QuantizeLinear do. */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface QuantizedMatrix {
  /** Row-major `[rows, columns]`. */
  readonly values: Int8Array;
  /** One scale per column (`axis` 1) or per row (`axis` 0). */
  readonly scales: Float32Array;
  readonly maxRoundingSteps: number;
}

/**
 * Symmetric int8 quantization of a row-major `[rows, columns]` matrix with one scale per column (`axis` 1) or per
 * row (`axis` 0). `transpose` reads the input as `[columns, rows]` and writes its transpose.
 */
export function quantizeMatrix(
  data: Float32Array,
  rows: number,
  columns: number,
  axis: 0 | 1,
  transpose = false,
): QuantizedMatrix {
  const at = transpose ? (r: number, c: number) => c * rows + r : (r: number, c: number) => r * columns + c;
  const scales = new Float32Array(axis === 1 ? columns : rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      const channel = axis === 1 ? c : r;
      scales[channel] = Math.max(scales[channel] as number, Math.abs(data[at(r, c)] as number));
    }
  }
  for (let i = 0; i < scales.length; i++) {
    // An all-zero channel quantizes to zeros whatever the scale; 1 keeps the division finite.
    scales[i] = (scales[i] as number) > 0 ? Math.fround((scales[i] as number) / QMAX) : 1;
  }
  const values = new Int8Array(rows * columns);
  let maxRoundingSteps = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      const scale = scales[axis === 1 ? c : r] as number;
      const exact = (data[at(r, c)] as number) / scale;
      const q = Math.max(-QMAX, Math.min(QMAX, rint(exact)));
      values[r * columns + c] = q;
      maxRoundingSteps = Math.max(maxRoundingSteps, Math.abs(exact - q));
    }
  }
  return { values, scales, maxRoundingSteps };
}

const rawBytes = (view: ArrayBufferView) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

function initializer(name: string, dataType: number, dims: number[], data: ArrayBufferView): TensorJson {
  return { dims, dataType, name, rawData: rawBytes(data) };
}

function attributeInt(node: NodeJson, name: string, fallback: number): number {
  return node.attribute?.find((a: AttributeJson) => a.name === name)?.i ?? fallback;
}

function attributeFloat(node: NodeJson, name: string, fallback: number): number {
  return node.attribute?.find((a: AttributeJson) => a.name === name)?.f ?? fallback;
}

type Use = { readonly kind: 'matmul'; readonly transposed: boolean } | { readonly kind: 'gather' };

/** How `node` would use `weight` if quantized, or null when it cannot take an int8 form. */
function quantizableUse(node: NodeJson, weight: string, tensor: TensorJson): Use | null {
  const inputs = node.input ?? [];
  const rank2 = (tensor.dims ?? []).length === 2;
  if (!rank2 || tensor.dataType !== FLOAT || inputs.indexOf(weight) !== inputs.lastIndexOf(weight)) {
    return null;
  }
  switch (node.opType) {
    case 'MatMul':
      return inputs[1] === weight ? { kind: 'matmul', transposed: false } : null;
    case 'Gemm': {
      const plain =
        inputs[1] === weight &&
        attributeFloat(node, 'alpha', 1) === 1 &&
        attributeFloat(node, 'beta', 1) === 1 &&
        attributeInt(node, 'transA', 0) === 0;
      return plain ? { kind: 'matmul', transposed: attributeInt(node, 'transB', 0) === 1 } : null;
    }
    case 'Gather':
      return inputs[0] === weight && attributeInt(node, 'axis', 0) === 0 ? { kind: 'gather' } : null;
    case undefined:
    default:
      return null;
  }
}

function assertOpset(model: ModelJson): void {
  const opset = model.opsetImport?.find((entry) => (entry.domain ?? '') === '')?.version ?? 0;
  if (opset < 11) {
    throw new Error(`the model imports opset ${opset}; dynamic quantization needs opset 11 or later`);
  }
  if ((model.graph?.node ?? []).some((n) => ['If', 'Loop', 'Scan'].includes(n.opType ?? ''))) {
    throw new Error('models with subgraphs (If, Loop, Scan) are not supported');
  }
}

/** The int8 model for `model`; the input is not modified. Throws where the graph cannot be quantized. */
export function quantizeModel(model: ModelJson, sourceBytes?: Uint8Array): QuantizedModel {
  assertOpset(model);
  const graph = model.graph ?? {};
  const nodes = graph.node ?? [];
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const graphInputs = new Set((graph.input ?? []).map((v) => v.name));
  const consumers = new Map<string, NodeJson[]>();
  for (const n of nodes) {
    for (const input of new Set(n.input ?? [])) {
      consumers.set(input, [...(consumers.get(input) ?? []), n]);
    }
  }
  const graphOutputs = new Set((graph.output ?? []).map((v) => v.name));
  // Weights every consumer of which takes the int8 form, with how each uses it.
  const plans = new Map<string, Map<NodeJson, Use>>();
  for (const [name, tensor] of initializers) {
    const users = consumers.get(name) ?? [];
    if (users.length === 0 || graphInputs.has(name) || graphOutputs.has(name)) {
      continue;
    }
    const uses = new Map<NodeJson, Use>();
    for (const user of users) {
      const use = quantizableUse(user, name, tensor);
      if (use === null) {
        break;
      }
      uses.set(user, use);
    }
    const kinds = new Set([...uses.values()].map((use) => (use.kind === 'matmul' ? `m${use.transposed}` : 'g')));
    if (uses.size === users.length && kinds.size === 1) {
      plans.set(name, uses);
    }
  }

  const taken = new Set<string>([
    ...initializers.keys(),
    ...(graph.input ?? []).map((v) => v.name ?? ''),
    ...nodes.flatMap((n) => [...(n.output ?? []), n.name ?? '']),
  ]);
  const fresh = (base: string): string => {
    let name = base;
    for (let i = 1; taken.has(name); i++) {
      name = `${base}_${i}`;
    }
    taken.add(name);
    return name;
  };
  const int = (name: string, i: number): AttributeJson => ({ name, type: 'INT', i });

  const added: TensorJson[] = [];
  const quantizedWeights = new Map<string, { q: string; scale: string; zeroPoint?: string }>();
  let quantizedElements = 0;
  let maxRoundingSteps = 0;
  const weightFor = (name: string, use: Use) => {
    const existing = quantizedWeights.get(name);
    if (existing !== undefined) {
      return existing;
    }
    const tensor = initializers.get(name) as TensorJson;
    const [d0, d1] = tensor.dims as [number, number];
    const data = floatValues(tensor);
    let result: { q: string; scale: string; zeroPoint?: string };
    let quantized: QuantizedMatrix;
    if (use.kind === 'matmul') {
      // [K, N] with a scale per output column N (Gemm's transB weight is stored [N, K]).
      const [k, n] = use.transposed ? [d1, d0] : [d0, d1];
      quantized = quantizeMatrix(data, k, n, 1, use.transposed);
      result = { q: fresh(`${name}_quantized`), scale: fresh(`${name}_scale`), zeroPoint: fresh(`${name}_zero_point`) };
      added.push(
        initializer(result.q, INT8, [k, n], quantized.values),
        initializer(result.scale, FLOAT, [n], quantized.scales),
        initializer(result.zeroPoint as string, INT8, [n], new Int8Array(n)),
      );
    } else {
      quantized = quantizeMatrix(data, d0, d1, 0);
      result = { q: fresh(`${name}_quantized`), scale: fresh(`${name}_scale`) };
      added.push(
        initializer(result.q, INT8, [d0, d1], quantized.values),
        initializer(result.scale, FLOAT, [d0, 1], quantized.scales),
      );
    }
    quantizedElements += d0 * d1;
    maxRoundingSteps = Math.max(maxRoundingSteps, quantized.maxRoundingSteps);
    quantizedWeights.set(name, result);
    return result;
  };

  const activations = new Map<string, { q: string; scale: string; zeroPoint: string }>();
  const out: NodeJson[] = [];
  let matmuls = 0;
  let gathers = 0;
  for (const n of nodes) {
    const inputs = n.input ?? [];
    const weightName = n.opType === 'Gather' ? inputs[0] : inputs[1];
    const use = weightName === undefined ? undefined : plans.get(weightName)?.get(n);
    if (weightName === undefined || use === undefined) {
      out.push(n);
      continue;
    }
    const output = (n.output ?? [])[0] as string;
    const base = n.name || output;
    const weight = weightFor(weightName, use);
    const step = (role: string, opType: string, input: string[], attribute: AttributeJson[] = []) => {
      const name = fresh(`${base}/${role}`);
      out.push({ input, output: [name], name, opType, ...(attribute.length > 0 ? { attribute } : {}) });
      return name;
    };
    if (use.kind === 'gather') {
      const q = step('gather_quantized', 'Gather', [weight.q, inputs[1] as string]);
      const scale = step('gather_scale', 'Gather', [weight.scale, inputs[1] as string]);
      const float = step('cast', 'Cast', [q], [int('to', FLOAT)]);
      out.push({ input: [float, scale], output: [output], name: fresh(`${base}/dequantize`), opType: 'Mul' });
      gathers++;
      continue;
    }
    const x = inputs[0] as string;
    let xq = activations.get(x);
    if (xq === undefined) {
      const name = fresh(`${x}/quantize`);
      xq = { q: fresh(`${x}_quantized`), scale: fresh(`${x}_scale`), zeroPoint: fresh(`${x}_zero_point`) };
      out.push({ input: [x], output: [xq.q, xq.scale, xq.zeroPoint], name, opType: 'DynamicQuantizeLinear' });
      activations.set(x, xq);
    }
    const scale = step('scale', 'Mul', [xq.scale, weight.scale]);
    const integer = step('matmul_integer', 'MatMulInteger', [xq.q, weight.q, xq.zeroPoint, weight.zeroPoint as string]);
    const float = step('cast', 'Cast', [integer], [int('to', FLOAT)]);
    const bias = n.opType === 'Gemm' ? inputs[2] : undefined;
    if (bias === undefined || bias === '') {
      out.push({ input: [float, scale], output: [output], name: fresh(`${base}/dequantize`), opType: 'Mul' });
    } else {
      const product = step('dequantize', 'Mul', [float, scale]);
      out.push({ input: [product, bias], output: [output], name: fresh(`${base}/bias`), opType: 'Add' });
    }
    matmuls++;
  }

  const kept = (graph.initializer ?? []).filter((t) => !plans.has(t.name ?? ''));
  const quantizedGraph: GraphJson = { ...graph, node: out, initializer: [...kept, ...added] };
  const metadata = [
    ...(model.metadataProps ?? []).filter((p) => p.key !== QUANTIZATION_METADATA_KEY && p.key !== 'source_sha256'),
    { key: QUANTIZATION_METADATA_KEY, value: QUANTIZATION_DESCRIPTION },
    ...(sourceBytes === undefined
      ? []
      : [{ key: 'source_sha256', value: createHash('sha256').update(sourceBytes).digest('hex') }]),
  ];
  return {
    model: { ...model, graph: quantizedGraph, metadataProps: metadata },
    report: {
      matmuls,
      gathers,
      quantizedElements,
      floatInitializers: kept.filter((t) => t.dataType === FLOAT).length,
      maxRoundingSteps,
    },
  };
}

/** `model.int8.onnx` bytes for `model.onnx` bytes; the same input always gives the same bytes. */
export function quantizeOnnxBytes(bytes: Uint8Array): {
  readonly bytes: Uint8Array;
  readonly report: QuantizationReport;
} {
  const { model, report } = quantizeModel(decodeModel(bytes), bytes);
  return { bytes: encodeModel(model), report };
}

/** One line for a CLI: what was quantized and the sizes. */
export function describeQuantization(report: QuantizationReport, fromBytes: number, toBytes: number): string {
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  return (
    `${report.matmuls} MatMul/Gemm and ${report.gathers} Gather weights to int8 ` +
    `(${(report.quantizedElements / 1e6).toFixed(2)} M values; ${report.floatInitializers} float initializers kept), ` +
    `${mb(fromBytes)} → ${mb(toBytes)} (${((100 * toBytes) / fromBytes).toFixed(1)}%)`
  );
}
