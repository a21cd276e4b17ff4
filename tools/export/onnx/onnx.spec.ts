/**
 * The ONNX export, checked without Python:
 * - onnx.proto against a file the PyTorch exporter wrote (test/fixtures/onnx/pytorch-bert.onnx, a tiny BERT, made by
 *   tools/fixtures/make_pytorch_onnx.py): every field in that file, at every nesting level, is a field of the schema
 *   with the same wire type, and the decoded values are the expected ones (interface, opset, attribute types, weights
 *   bit-equal to its model.safetensors) — the proof of the field numbers;
 * - the generated model.onnx: the Hugging Face interface, standard opset-14 operators only, topological order, no
 *   unused initializer, deterministic bytes;
 * - ONNX Runtime (through OnnxSession) against float64 references: a small graph using every IR op, and tiny random
 *   BERT checkpoints with 1 and 3 attention heads, padded and unpadded.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import protobuf from 'protobufjs';
import { OnnxSession } from '../../../src/inference/onnx/onnx-session.js';
import type { TokenizedBatch } from '../../../src/model/tokenized-batch.js';
import { REPO_ROOT } from '../../common/sst2.js';
import { GraphBuilder, type IrGraph } from '../ir/graph.js';
import { SafetensorsFile } from '../safetensors.js';
import { emitOnnxGraph } from './onnx.emitter.js';
import {
  buildOnnxModel,
  exportOnnxModel,
  ONNX_IR_VERSION,
  ONNX_PRODUCER_NAME,
  writeOnnxModel,
  writeOnnxModelFile,
} from './onnx.writer.js';
import {
  type AttributeTypeName,
  decodeModel,
  encodeModel,
  type GraphJson,
  type ModelJson,
  type NodeJson,
  onnxDataType,
  onnxSchema,
  type TensorJson,
} from './onnx-proto.js';
import {
  erf,
  referenceLogits,
  type TinyConfig,
  tinyCheckpoint,
  writeTinyBertFolder,
} from '../architectures/tiny-bert.test-support.js';

const MODEL_VERSION_DIR = resolve(REPO_ROOT, 'models/sentiment_analysis/1');
/** Written by torch.onnx.export from the bert-safetensors checkpoint fixture (tools/fixtures/make_pytorch_onnx.py). */
const TORCH_ONNX = resolve(REPO_ROOT, 'test/fixtures/onnx/pytorch-bert.onnx');
const TORCH_CHECKPOINT = resolve(REPO_ROOT, 'test/fixtures/checkpoints/bert-safetensors');
const SESSION_OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1 };

/** Protobuf wire types of the scalar field types (proto3 encoding spec). */
const WIRE_TYPES: Readonly<Record<string, number>> = {
  int32: 0,
  int64: 0,
  uint32: 0,
  uint64: 0,
  sint32: 0,
  sint64: 0,
  bool: 0,
  fixed64: 1,
  sfixed64: 1,
  double: 1,
  string: 2,
  bytes: 2,
  fixed32: 5,
  sfixed32: 5,
  float: 5,
};

/**
 * Walks the raw protobuf encoding of `bytes` as a `type` message, recursing into sub-messages, and lists every
 * field whose number the schema does not know or whose wire type does not fit the schema's field type.
 */
function schemaMismatches(type: protobuf.Type, bytes: Uint8Array, problems: Set<string>): void {
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const id = tag >>> 3;
    const wireType = tag & 7;
    const field = type.fieldsById[id];
    if (field === undefined) {
      problems.add(`${type.fullName}: unknown field ${id} (wire type ${wireType})`);
      reader.skipType(wireType);
      continue;
    }
    field.resolve();
    const where = `${type.fullName}.${field.name} (${id})`;
    if (field.resolvedType instanceof protobuf.Type) {
      if (wireType !== 2) {
        problems.add(`${where}: a message field with wire type ${wireType}`);
        reader.skipType(wireType);
      } else {
        schemaMismatches(field.resolvedType, reader.bytes(), problems);
      }
      continue;
    }
    const scalar = field.resolvedType instanceof protobuf.Enum ? 0 : WIRE_TYPES[field.type];
    // A repeated numeric field may arrive packed (one length-delimited run) or one element per tag.
    const packable = field.repeated && scalar !== 2;
    if (wireType !== scalar && !(packable && wireType === 2)) {
      problems.add(`${where}: wire type ${wireType}, the schema's ${field.type} uses ${scalar}`);
    }
    reader.skipType(wireType);
  }
}

function float32Bytes(values: Float32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/** ONNX operators (default domain) as opset 14 defines them: operand count range and attribute types. */
interface OperatorSchema {
  readonly inputs: readonly [number, number];
  readonly attributes: Readonly<Record<string, { type: AttributeTypeName; required?: boolean }>>;
}

const unary: OperatorSchema = { inputs: [1, 1], attributes: {} };
const binary: OperatorSchema = { inputs: [2, 2], attributes: {} };
const OPSET_14: Readonly<Record<string, OperatorSchema>> = {
  Identity: unary,
  Gather: { inputs: [2, 2], attributes: { axis: { type: 'INT' } } },
  Add: binary,
  Sub: binary,
  Mul: binary,
  Div: binary,
  Sqrt: unary,
  Pow: binary,
  Erf: unary,
  Tanh: unary,
  Relu: unary,
  Softmax: { inputs: [1, 1], attributes: { axis: { type: 'INT' } } },
  // Opset 14 still takes `axes` as an attribute (an input from opset 18).
  ReduceMean: { inputs: [1, 1], attributes: { axes: { type: 'INTS' }, keepdims: { type: 'INT' } } },
  MatMul: binary,
  Transpose: { inputs: [1, 1], attributes: { perm: { type: 'INTS' } } },
  Cast: { inputs: [1, 1], attributes: { to: { type: 'INT', required: true } } },
  // Unsqueeze-13: `axes` is the second input.
  Unsqueeze: binary,
  Concat: { inputs: [1, Number.POSITIVE_INFINITY], attributes: { axis: { type: 'INT', required: true } } },
  // `start`/`end` attributes only from opset 15.
  Shape: unary,
  Slice: { inputs: [3, 5], attributes: {} },
};

const ELEMENT_BYTES: Readonly<Record<number, number>> = {
  [onnxDataType('FLOAT')]: 4,
  [onnxDataType('INT32')]: 4,
  [onnxDataType('INT64')]: 8,
  [onnxDataType('BOOL')]: 1,
};

function tensorByName(graph: GraphJson, name: string): TensorJson | undefined {
  return graph.initializer?.find((tensor) => tensor.name === name);
}

/** A batch as the tokenizer would hand it to OnnxSession. */
function batchOf(ids: number[][], mask?: number[][], types?: number[][]): TokenizedBatch {
  const sequenceLength = ids[0]?.length ?? 0;
  const flat = (rows: number[][]) => Int32Array.from(rows.flat());
  return {
    batchSize: ids.length,
    sequenceLength,
    padId: 0,
    inputIds: flat(ids),
    attentionMask: mask ? flat(mask) : new Int32Array(ids.length * sequenceLength).fill(1),
    tokenTypeIds: types ? flat(types) : new Int32Array(ids.length * sequenceLength),
    lengths: ids.map(() => sequenceLength),
    truncated: ids.map(() => false),
  };
}

/** Runs `bytes` in ONNX Runtime on `batch` and returns the logits as rows. */
async function runOnnx(dir: string, bytes: Uint8Array, batch: TokenizedBatch): Promise<number[][]> {
  const path = writeOnnxModelFile(join(dir, 'model.onnx'), bytes);
  const session = await OnnxSession.create(path, SESSION_OPTIONS);
  try {
    const logits = await session.run(batch);
    return Array.from({ length: logits.rows }, (_, r) =>
      Array.from(logits.data.subarray(r * logits.columns, (r + 1) * logits.columns)),
    );
  } finally {
    await session.release();
  }
}

/** The `logits` output a Hugging Face export declares: float `[batch_size, labels]`. */
function logitsOutput(labels: number): GraphJson['output'] {
  const shape = { dim: [{ dimParam: 'batch_size' }, { dimValue: labels }] };
  return [{ name: 'logits', type: { tensorType: { elemType: onnxDataType('FLOAT'), shape } } }];
}

describe('onnx.proto against a model.onnx written by the PyTorch exporter', () => {
  let bytes: Uint8Array;
  let model: ModelJson;
  let graph: GraphJson;

  beforeAll(() => {
    bytes = readFileSync(TORCH_ONNX);
    model = decodeModel(bytes);
    graph = model.graph ?? {};
  });

  it('should know every field of the file, at every level, with a matching wire type', () => {
    const problems = new Set<string>();
    schemaMismatches(onnxSchema().lookupType('onnx.ModelProto'), bytes, problems);
    expect([...problems]).toEqual([]);
  });

  it('should decode the header and the Hugging Face interface: int64 inputs, float logits, named dimensions', () => {
    expect(model.irVersion).toBe(7);
    expect(model.producerName).toBe('pytorch');
    expect(model.opsetImport).toHaveLength(1);
    expect(model.opsetImport?.[0]?.domain ?? '').toBe('');
    expect(model.opsetImport?.[0]?.version).toBe(14);
    const tokens = { dim: [{ dimParam: 'batch_size' }, { dimParam: 'sequence_length' }] };
    expect(graph.input).toEqual(
      ['input_ids', 'attention_mask', 'token_type_ids'].map((name) => ({
        name,
        type: { tensorType: { elemType: onnxDataType('INT64'), shape: tokens } },
      })),
    );
    expect(graph.output).toEqual(logitsOutput(3));
  });

  it('should decode nodes, typed attributes and initializers, with weights equal to model.safetensors', () => {
    const nodes = graph.node ?? [];
    expect(nodes.length).toBeGreaterThan(50);
    const produced = new Set([
      ...(graph.input ?? []).map((v) => v.name),
      ...(graph.initializer ?? []).map((t) => t.name),
      ...nodes.flatMap((n) => n.output ?? []),
    ]);
    expect(nodes.flatMap((n) => n.input ?? []).filter((name) => name !== '' && !produced.has(name))).toEqual([]);
    expect(nodes.find((n) => n.opType === 'Cast')?.attribute).toEqual([
      { name: 'to', type: 'INT', i: expect.any(Number) as number },
    ]);
    expect(nodes.find((n) => n.opType === 'ReduceMean')?.attribute).toEqual([
      { name: 'axes', type: 'INTS', ints: [-1] },
    ]);
    const constant = nodes.find((n) => n.opType === 'Constant')?.attribute?.[0];
    expect(constant?.name).toBe('value');
    expect(constant?.type).toBe('TENSOR');
    expect(constant?.t?.rawData?.byteLength).toBe(ELEMENT_BYTES[constant?.t?.dataType ?? -1]);
    expect(nodes.find((n) => n.opType === 'Softmax')?.attribute).toEqual([{ name: 'axis', type: 'INT', i: -1 }]);

    const weights = SafetensorsFile.open(join(TORCH_CHECKPOINT, 'model.safetensors'));
    for (const name of ['bert.embeddings.word_embeddings.weight', 'bert.embeddings.LayerNorm.weight']) {
      const tensor = tensorByName(graph, name);
      const shape = weights.tensors.get(name)?.shape ?? [];
      expect(tensor?.dims).toEqual(shape);
      expect(tensor?.dataType).toBe(onnxDataType('FLOAT'));
      expect(Buffer.from(tensor?.rawData ?? []).equals(float32Bytes(weights.float32(name, shape)))).toBe(true);
    }
  });

  it('should re-encode what it decodes without losing anything', () => {
    // Byte fields compared by digest: jest's deep equality walks typed arrays element by element.
    const digest = (decoded: ModelJson) =>
      JSON.stringify(decoded, (_, value: unknown) =>
        value instanceof Uint8Array ? `sha256:${createHash('sha256').update(value).digest('hex')}` : value,
      );
    expect(digest(decodeModel(encodeModel(model)))).toBe(digest(model));
  });
});

describe('ONNX export of models/sentiment_analysis/1', () => {
  let bytes: Uint8Array;
  let model: ModelJson;
  let graph: GraphJson;
  let nodes: NodeJson[];
  let torch: GraphJson;

  beforeAll(() => {
    bytes = buildOnnxModel(MODEL_VERSION_DIR);
    model = decodeModel(bytes);
    graph = model.graph ?? {};
    nodes = graph.node ?? [];
    torch = decodeModel(readFileSync(TORCH_ONNX)).graph ?? {};
  });

  it('should write IR version 7, import the default domain at opset 14, and name its producer', () => {
    expect(model.irVersion).toBe(ONNX_IR_VERSION);
    // proto3 leaves the empty domain ("" = ai.onnx) off the wire, as the PyTorch exporter does.
    expect(model.opsetImport).toEqual([{ version: 14 }]);
    expect(model.producerName).toBe(ONNX_PRODUCER_NAME);
    expect(model.producerVersion).toBe('1');
    expect(graph.name).toBe('bert');
  });

  it('should declare exactly the inputs and output of the Hugging Face export (names, types, dimensions)', () => {
    expect(graph.input).toEqual(torch.input);
    expect(torch.output).toEqual(logitsOutput(3));
    expect(graph.output).toEqual(logitsOutput(2));
    expect(graph.valueInfo).toBeUndefined();
  });

  it('should use only default-domain opset-14 operators, each with its operand count and typed attributes', () => {
    const problems: string[] = [];
    for (const n of nodes) {
      const schema = OPSET_14[n.opType ?? ''];
      if (schema === undefined || (n.domain ?? '') !== '') {
        problems.push(`${n.name}: ${n.domain ?? ''}::${n.opType} is not an allowed operator`);
        continue;
      }
      const count = n.input?.length ?? 0;
      if (count < schema.inputs[0] || count > schema.inputs[1] || (n.input ?? []).includes('')) {
        problems.push(`${n.name} (${n.opType}): ${count} operands`);
      }
      if (n.output?.length !== 1) {
        problems.push(`${n.name} (${n.opType}): ${n.output?.length ?? 0} outputs`);
      }
      const attributes = n.attribute ?? [];
      for (const attribute of attributes) {
        const expected = schema.attributes[attribute.name ?? ''];
        if (expected === undefined) {
          problems.push(`${n.name} (${n.opType}): unknown attribute ${attribute.name}`);
        } else if (attribute.type !== expected.type) {
          problems.push(
            `${n.name} (${n.opType}): attribute ${attribute.name} is ${attribute.type}, not ${expected.type}`,
          );
        }
      }
      for (const [name, spec] of Object.entries(schema.attributes)) {
        if (spec.required === true && !attributes.some((attribute) => attribute.name === name)) {
          problems.push(`${n.name} (${n.opType}): missing attribute ${name}`);
        }
      }
    }
    expect(problems).toEqual([]);
    // proto3 leaves a zero off the wire (Gather's axis 0), as in the PyTorch exporter's file.
    expect(nodes.find((n) => n.opType === 'Gather')?.attribute).toEqual([{ name: 'axis', type: 'INT' }]);
    expect(torch.node?.find((n) => n.opType === 'Gather')?.attribute).toEqual([{ name: 'axis', type: 'INT' }]);
    expect(new Set(nodes.map((n) => n.opType))).toEqual(
      new Set(
        ['Gather', 'Shape', 'Cast', 'Slice', 'Add', 'ReduceMean', 'Sub', 'Pow', 'Div', 'Mul', 'Sqrt'].concat([
          'Unsqueeze',
          'MatMul',
          'Transpose',
          'Softmax',
          'Concat',
          'Erf',
          'Tanh',
          'Identity',
        ]),
      ),
    );
  });

  it('should list nodes in topological order, each tensor produced once, and every node feeding the logits', () => {
    const problems: string[] = [];
    const available = new Set<string>();
    const produce = (name: string, by: string) => {
      if (available.has(name)) {
        problems.push(`${name} is produced twice (again by ${by})`);
      }
      available.add(name);
    };
    (graph.input ?? []).forEach((value) => produce(value.name ?? '', 'a graph input'));
    (graph.initializer ?? []).forEach((tensor) => produce(tensor.name ?? '', 'an initializer'));
    for (const n of nodes) {
      for (const input of n.input ?? []) {
        if (!available.has(input)) {
          problems.push(`${n.name} (${n.opType}) reads ${input} before anything produces it`);
        }
      }
      (n.output ?? []).forEach((output) => produce(output, `node ${n.name}`));
    }
    expect(problems).toEqual([]);
    expect(new Set(nodes.map((n) => n.name)).size).toBe(nodes.length);
    expect((graph.output ?? []).every((value) => nodes.some((n) => n.output?.includes(value.name ?? '')))).toBe(true);

    // Backwards from the outputs: every node and every initializer is needed.
    const producer = new Map(nodes.flatMap((n) => (n.output ?? []).map((output) => [output, n] as const)));
    const needed = new Set<string>();
    const stack = (graph.output ?? []).map((value) => value.name ?? '');
    while (stack.length > 0) {
      const name = stack.pop() as string;
      if (!needed.has(name)) {
        needed.add(name);
        stack.push(...(producer.get(name)?.input ?? []));
      }
    }
    expect(nodes.filter((n) => !(n.output ?? []).some((output) => needed.has(output))).map((n) => n.name)).toEqual([]);
    expect((graph.initializer ?? []).map((tensor) => tensor.name).filter((name) => !needed.has(name ?? ''))).toEqual(
      [],
    );
  });

  it('should store every initializer as raw_data only, sized by its dims and data type', () => {
    const initializers = graph.initializer ?? [];
    expect(initializers.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const tensor of initializers) {
      const elements = (tensor.dims ?? []).reduce((product, dim) => product * dim, 1);
      const size = ELEMENT_BYTES[tensor.dataType ?? -1];
      const typed = [tensor.floatData, tensor.int32Data, tensor.int64Data, tensor.doubleData, tensor.externalData];
      if (typed.some((values) => values !== undefined) || tensor.dataLocation !== undefined) {
        problems.push(`${tensor.name}: data outside raw_data`);
      }
      if (size === undefined || tensor.rawData?.byteLength !== elements * size) {
        problems.push(`${tensor.name}: ${tensor.rawData?.byteLength} bytes for ${elements} × type ${tensor.dataType}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('should store the weights bit-exactly from model.safetensors (Linear kernels transposed to [in, out])', () => {
    const weights = SafetensorsFile.open(join(MODEL_VERSION_DIR, 'model.safetensors'));
    const words = tensorByName(graph, 'bert/embeddings/word_embeddings');
    const shape = weights.tensors.get('bert.embeddings.word_embeddings.weight')?.shape ?? [];
    expect(words?.dims).toEqual(shape);
    expect(
      Buffer.from(words?.rawData ?? []).equals(
        float32Bytes(weights.float32('bert.embeddings.word_embeddings.weight', shape)),
      ),
    ).toBe(true);
    const classifier = tensorByName(graph, 'classifier/kernel');
    const [labels, hidden] = weights.tensors.get('classifier.weight')?.shape ?? [];
    expect(classifier?.dims).toEqual([hidden, labels]);
    const raw = classifier?.rawData ?? new Uint8Array();
    const kernel = new Float32Array(Uint8Array.from(raw).buffer);
    const weight = weights.float32('classifier.weight', [labels ?? 0, hidden ?? 0]);
    expect(kernel[5 * (labels ?? 0) + 1]).toBe(weight[1 * (hidden ?? 0) + 5]);
  });

  it('should be written so that ONNX Runtime fuses every LayerNorm and GELU into one kernel each', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-fused-'));
    try {
      const optimized = join(dir, 'optimized.onnx');
      const session = await OnnxSession.create(writeOnnxModelFile(join(dir, 'model.onnx'), bytes), {
        ...SESSION_OPTIONS,
        optimizedModelPath: optimized,
      });
      await session.release();
      const count = (graphJson: GraphJson, op: string) => (graphJson.node ?? []).filter((n) => n.opType === op).length;
      const ran = decodeModel(readFileSync(optimized)).graph ?? {};
      const layers = 2;
      // The embeddings' LayerNorm and two per layer (the last layer's, on its one row, with their residual Add:
      // SkipLayerNormalization); one GELU per layer, fused with its bias.
      expect(count(graph, 'Erf')).toBe(layers);
      expect(count(ran, 'LayerNormalization') + count(ran, 'SkipLayerNormalization')).toBe(1 + 2 * layers);
      expect(count(ran, 'BiasGelu')).toBe(layers);
      for (const unfused of ['Pow', 'Sqrt', 'ReduceMean', 'Erf']) {
        expect([unfused, count(ran, unfused)]).toEqual([unfused, 0]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should produce byte-identical files from identical inputs', () => {
    expect(Buffer.from(buildOnnxModel(MODEL_VERSION_DIR)).equals(Buffer.from(bytes))).toBe(true);
  });
});

describe('every IR op lowered to ONNX and run in ONNX Runtime, against float64', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'onnx-ops-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const W = [0.5, -1, 2];
  const TABLE = Array.from({ length: 5 }, (_, r) => [0.1 * r, -0.3 + 0.2 * r, 1 - 0.15 * r * r]);

  /** `input_ids` [B, S] int64 → `logits` [B, 9], through every IR op (both dtypes of shape/slice bounds). */
  function everyOpGraph(): IrGraph {
    const b = new GraphBuilder();
    const ids = b.input('input_ids', 'int64', [-1, -1], ['batch_size', 'sequence_length']);
    const half = b.div(b.cast(ids, 'float32'), b.scalar('two', 2));
    const scaled = b.div(half, b.sqrt(b.add(b.squaredDifference(half, b.scalar('one', 1)), b.scalar('one', 1))));
    const t = b.tanh(b.sub(b.erf(b.mul(scaled, b.scalar('unit', 1))), b.scalar('quarter', 0.25)));
    const m = b.matmul(b.expandDims(t, -1), b.constant('w', [1, 3], Float32Array.from(W))); // [B, S, 3]
    const gram = b.softmax(b.batchMatmul(m, m, { adjointA: true, name: 'gram' })); // [B, 3, 3]
    const columnMeans = b.reduceMean(gram, [1], false, 'column_means'); // [B, 3]
    const scores = b.softmax(b.batchMatmul(m, m, { adjointB: true, name: 'scores' })); // [B, S, S]
    const first = b.firstToken(b.batchMatmul(scores, m, { name: 'context' })); // [B, 3]
    const table = b.constant('table', [5, 3], Float32Array.from(TABLE.flat()));
    const embedded = b.reduceMean(b.gather(table, ids), [1], false, 'embedded'); // [B, 3]
    // An int64 Shape, and int64 Slice bounds (a constant and a run-time length).
    const length = b.slice(b.shape(ids, 'int64'), b.int32('from', [1]), b.int32('to', [2]));
    const rows64 = b.reduceMean(b.slice(table, b.constant('zero', [1], BigInt64Array.of(0n)), length), [0], true);
    const rows32 = b.reduceMean(b.sliceRowsToLengthOf(table, ids), [0], true); // [1, 3]
    const out = b.concat([b.add(columnMeans, rows64), b.relu(b.sub(first, rows32)), embedded], -1);
    b.output('logits', out, ['batch_size', null]);
    return b.build();
  }

  function expected(ids: number[]): number[] {
    const S = ids.length;
    const t = ids.map((id) => {
      const h = id / 2;
      return Math.tanh(erf(h / Math.sqrt((h - 1) ** 2 + 1)) - 0.25);
    });
    const m = t.map((v) => W.map((w) => v * w));
    const softmax = (row: number[]) => {
      const max = Math.max(...row);
      const exps = row.map((x) => Math.exp(x - max));
      const total = exps.reduce((a, c) => a + c, 0);
      return exps.map((x) => x / total);
    };
    const dot = (a: number[], c: number[]) => a.reduce((sum, x, i) => sum + x * (c[i] as number), 0);
    const column = (j: number) => m.map((row) => row[j] as number);
    const gram = W.map((_, i) => softmax(W.map((__, j) => dot(column(i), column(j)))));
    const columnMeans = W.map((_, j) => gram.reduce((sum, row) => sum + (row[j] as number), 0) / 3);
    const scores0 = softmax(m.map((row) => dot(m[0] as number[], row)));
    const first = W.map((_, j) => scores0.reduce((sum, p, u) => sum + p * (m[u]?.[j] as number), 0));
    const mean = (rows: number[][]) =>
      W.map((_, j) => rows.reduce((sum, row) => sum + (row[j] as number), 0) / rows.length);
    const embedded = mean(ids.map((id) => TABLE[id] as number[]));
    const rows = mean(TABLE.slice(0, S));
    return [
      ...columnMeans.map((v, j) => v + (rows[j] as number)),
      ...first.map((v, j) => Math.max(0, v - (rows[j] as number))),
      ...embedded,
    ];
  }

  it('should lower each IR op to standard operators and compute the float64 result', async () => {
    const graph = everyOpGraph();
    expect(new Set(graph.nodes.map((n) => n.op))).toEqual(
      new Set(
        ['input', 'constant', 'identity', 'gather', 'add', 'sub', 'mul', 'div', 'squaredDifference'].concat([
          'sqrt',
          'erf',
          'tanh',
          'relu',
          'softmax',
          'reduceMean',
          'matmul',
          'cast',
          'expandDims',
          'concat',
          'shape',
          'slice',
        ]),
      ),
    );
    const onnx = emitOnnxGraph(graph, 'ops');
    const opTypes = (onnx.node ?? []).map((n) => n.opType);
    // squaredDifference → Sub + Pow; transposes → Transpose; int32 shape → Shape + Cast.
    expect(opTypes.filter((op) => op === 'Transpose')).toHaveLength(2);
    expect(opTypes.filter((op) => op === 'Shape')).toHaveLength(2);
    expect(opTypes).toEqual(expect.arrayContaining(['Sqrt', 'Pow', 'Unsqueeze', 'Slice', 'Concat']));

    const ids = [
      [0, 1, 2, 3],
      [4, 4, 1, 0],
    ];
    const logits = await runOnnx(dir, writeOnnxModel(graph, 'ops'), batchOf(ids));
    const want = ids.map(expected);
    expect(logits).toHaveLength(2);
    logits.forEach((row, r) => {
      expect(row).toHaveLength(9);
      row.forEach((value, i) => expect(Math.abs(value - (want[r]?.[i] as number))).toBeLessThan(1e-5));
    });
    // A shorter sequence: the position slices follow the run-time length.
    const short = await runOnnx(dir, writeOnnxModel(graph, 'ops'), batchOf([[3, 1]]));
    short[0]?.forEach((value, i) => expect(Math.abs(value - (expected([3, 1])[i] as number))).toBeLessThan(1e-5));
  });

  it('should refuse a graph whose lowered names would collide', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [-1, 2]);
    const r = b.squaredDifference(x, x, 'r');
    b.output(
      'y',
      b.add(
        r,
        b.withScope('r', () => b.tanh(x, 'difference')),
      ),
    );
    expect(() => emitOnnxGraph(b.build(), 'g')).toThrow('duplicate ONNX tensor name "r/difference"');
  });
});

describe('BERT exported to ONNX vs a float64 reference forward pass (tiny random checkpoints)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tiny-bert-onnx-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([1, 3])('should compute the reference logits with %i attention head(s), padded or not', async (heads) => {
    const c: TinyConfig = {
      vocab: 20,
      hidden: 12,
      layers: 2,
      heads,
      intermediate: 16,
      positions: 10,
      types: 2,
      labels: 3,
    };
    const weights = tinyCheckpoint(c, 4321 + heads);
    writeTinyBertFolder(dir, c, weights);
    const { bytes, graph } = exportOnnxModel(dir);
    expect(graph.nodes.some((node) => node.op === 'concat')).toBe(heads > 1);
    const output = decodeModel(bytes).graph?.output?.[0];
    expect(output?.type?.tensorType?.shape?.dim).toEqual([{ dimParam: 'batch_size' }, { dimValue: 3 }]);

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
    const batched = await runOnnx(dir, bytes, batchOf(ids, mask, types));
    const unpadded = await runOnnx(dir, bytes, batchOf([ids[1]!.slice(0, 4)], [[1, 1, 1, 1]], [types[1]!.slice(0, 4)]));
    const expected = ids.map((row, r) => referenceLogits(c, weights, row, mask[r]!, types[r]!));
    // Logits are O(1); float32 against float64 agrees to ~1e-6.
    batched.forEach((row, r) =>
      row.forEach((value, i) => expect(Math.abs(value - expected[r]![i]!)).toBeLessThan(1e-4)),
    );
    unpadded[0]!.forEach((value, i) => expect(Math.abs(value - batched[1]![i]!)).toBeLessThan(1e-5));
    expect(Math.max(...expected.flat().map(Math.abs))).toBeGreaterThan(0.1);
  });
});

describe('writeOnnxModelFile', () => {
  it('should write atomically, replacing the target and leaving no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-write-'));
    try {
      const target = join(dir, 'nested', 'model.onnx');
      const model = buildOnnxModel(MODEL_VERSION_DIR);
      mkdirSync(join(dir, 'nested'));
      writeFileSync(target, 'an older model');
      // A small model keeps its weights inline: one file, and no external data file left from a larger one.
      writeFileSync(`${target}_data`, 'weights of an older, larger model');
      expect(writeOnnxModelFile(target, model)).toBe(target);
      expect(Buffer.from(readFileSync(target)).equals(Buffer.from(model))).toBe(true);
      expect(readdirSync(join(dir, 'nested'))).toEqual(['model.onnx']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
