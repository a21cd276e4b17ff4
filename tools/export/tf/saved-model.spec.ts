/**
 * Structural checks of the generated saved_model.pb, decoded back with tensorflow.proto: what TensorFlow Serving's
 * loader and `Session::Create` would reject (unknown ops, missing/unknown attrs, bad Consts, dangling inputs,
 * mistyped operands) fails here, without TensorFlow. The op table below is written from the TF op registrations
 * (ops_history_v2, newest entry), independently of the emitter.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../../common/sst2.js';
import { buildSavedModel } from '../export-saved-model.js';
import {
  type TinyDistilBertConfig,
  tinyDistilBertCheckpoint,
  writeTinyDistilBertFolder,
} from '../architectures/tiny-distilbert.test-support.js';
import { encodeSafetensors, SafetensorsFile } from '../safetensors.js';
import {
  type AttrValueJson,
  type DataTypeName,
  decodeSavedModel,
  type MetaGraphDefJson,
  type NodeDefJson,
  type SavedModelJson,
} from './tensorflow-proto.js';

const MODEL_VERSION_DIR = resolve(REPO_ROOT, 'models/sentiment_analysis/1');

type AttrSpec =
  | { kind: 'type'; required: boolean; allowed?: readonly DataTypeName[]; default?: DataTypeName }
  | { kind: 'bool' | 'shape' | 'tensor'; required: boolean }
  | { kind: 'int'; required: boolean; minimum?: number };

interface OpRegistration {
  /** Each operand's dtype, as the name of the type attr that fixes it; `N*T` = N operands of type T. */
  readonly inputs: readonly string[];
  /** The type attr that fixes the output dtype. */
  readonly output: string;
  readonly attrs: Readonly<Record<string, AttrSpec>>;
}

const INDEX_TYPES: readonly DataTypeName[] = ['DT_INT32', 'DT_INT64'];
const FLOATS: readonly DataTypeName[] = ['DT_BFLOAT16', 'DT_HALF', 'DT_FLOAT', 'DT_DOUBLE'];
const ARITHMETIC: readonly DataTypeName[] = [...FLOATS, 'DT_INT32', 'DT_INT64', 'DT_COMPLEX64', 'DT_COMPLEX128'];
const T = (allowed?: readonly DataTypeName[]): AttrSpec => ({ kind: 'type', required: true, allowed });
const optionalBool: AttrSpec = { kind: 'bool', required: false };
const unaryFloat: OpRegistration = { inputs: ['T'], output: 'T', attrs: { T: T(FLOATS) } };
const binary: OpRegistration = { inputs: ['T', 'T'], output: 'T', attrs: { T: T(ARITHMETIC) } };
const index = (name: string): Record<string, AttrSpec> => ({
  [name]: { kind: 'type', required: false, allowed: INDEX_TYPES, default: 'DT_INT32' },
});

/** The ops TF Serving may see in our graphs; anything else (Assert above all) is rejected. */
const OPS: Readonly<Record<string, OpRegistration>> = {
  Placeholder: { inputs: [], output: 'dtype', attrs: { dtype: T(), shape: { kind: 'shape', required: false } } },
  Const: { inputs: [], output: 'dtype', attrs: { dtype: T(), value: { kind: 'tensor', required: true } } },
  Identity: { inputs: ['T'], output: 'T', attrs: { T: T() } },
  GatherV2: {
    inputs: ['Tparams', 'Tindices', 'Taxis'],
    output: 'Tparams',
    attrs: {
      Tparams: T(),
      Tindices: T(INDEX_TYPES),
      Taxis: T(INDEX_TYPES),
      batch_dims: { kind: 'int', required: false },
    },
  },
  AddV2: binary,
  Sub: binary,
  Mul: binary,
  RealDiv: binary,
  SquaredDifference: binary,
  Mean: { inputs: ['T', 'Tidx'], output: 'T', attrs: { T: T(ARITHMETIC), keep_dims: optionalBool, ...index('Tidx') } },
  Sqrt: unaryFloat,
  Erf: unaryFloat,
  Tanh: unaryFloat,
  Relu: unaryFloat,
  Softmax: unaryFloat,
  MatMul: {
    inputs: ['T', 'T'],
    output: 'T',
    attrs: { T: T(ARITHMETIC), transpose_a: optionalBool, transpose_b: optionalBool },
  },
  // No grad_x / grad_y: only the newest TF knows them, older servers reject the node.
  BatchMatMulV2: {
    inputs: ['T', 'T'],
    output: 'T',
    attrs: { T: T(ARITHMETIC), adj_x: optionalBool, adj_y: optionalBool },
  },
  Cast: { inputs: ['SrcT'], output: 'DstT', attrs: { SrcT: T(), DstT: T(), Truncate: optionalBool } },
  ExpandDims: { inputs: ['T', 'Tdim'], output: 'T', attrs: { T: T(), ...index('Tdim') } },
  ConcatV2: {
    inputs: ['N*T', 'Tidx'],
    output: 'T',
    attrs: { N: { kind: 'int', required: true, minimum: 2 }, T: T(), ...index('Tidx') },
  },
  // Not in the reference op table: REGISTER_OP("Shape") has T: type and out_type: {int32, int64} = DT_INT32.
  Shape: { inputs: ['T'], output: 'out_type', attrs: { T: T(), ...index('out_type') } },
  StridedSlice: {
    inputs: ['T', 'Index', 'Index', 'Index'],
    output: 'T',
    attrs: {
      T: T(),
      Index: T(INDEX_TYPES),
      ...Object.fromEntries(
        ['begin_mask', 'end_mask', 'ellipsis_mask', 'new_axis_mask', 'shrink_axis_mask'].map((mask) => [
          mask,
          { kind: 'int', required: false } satisfies AttrSpec,
        ]),
      ),
    },
  },
};

const ELEMENT_BYTES: Partial<Record<DataTypeName, number>> = { DT_FLOAT: 4, DT_INT32: 4, DT_INT64: 8, DT_BOOL: 1 };

/** Which AttrValue member is set, named as in op registrations (`b` → bool, `i` → int, ...). */
function attrKind(value: AttrValueJson): string {
  const kinds = {
    list: 'list',
    s: 'string',
    i: 'int',
    f: 'float',
    b: 'bool',
    type: 'type',
    shape: 'shape',
    tensor: 'tensor',
    func: 'func',
    placeholder: 'placeholder',
  } as const;
  const set = (Object.keys(kinds) as (keyof typeof kinds)[]).filter((key) => value[key] !== undefined);
  return set.length === 1 ? kinds[set[0] as keyof typeof kinds] : `${set.length} values`;
}

/** Splits a NodeDef input `name[:k]` (no control inputs expected). */
function parseInput(input: string): { node: string; output: number } {
  const match = /^([^:^]+)(?::(\d+))?$/.exec(input);
  if (match === null) {
    throw new Error(`unexpected input syntax "${input}"`);
  }
  return { node: match[1] as string, output: Number(match[2] ?? 0) };
}

function typeAttr(node: NodeDefJson, name: string): DataTypeName {
  const registration = OPS[node.op] as OpRegistration;
  const spec = registration.attrs[name];
  const value = node.attr?.[name]?.type ?? (spec?.kind === 'type' ? spec.default : undefined);
  if (value === undefined) {
    throw new Error(`${node.name}: no type for ${name}`);
  }
  return value;
}

/** The graphs whose structure is checked: the bundled BERT, and a tiny DistilBERT (ReLU, several heads). */
const GRAPHS: readonly (readonly [string, () => Uint8Array])[] = [
  ['models/sentiment_analysis/1, BERT', () => buildSavedModel(MODEL_VERSION_DIR)],
  [
    'a tiny DistilBERT with ReLU and 2 heads',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'saved-model-distilbert-'));
      try {
        const c: TinyDistilBertConfig = {
          vocab: 12,
          hidden: 8,
          layers: 2,
          heads: 2,
          intermediate: 12,
          positions: 6,
          labels: 2,
          activation: 'relu',
        };
        writeTinyDistilBertFolder(dir, c, tinyDistilBertCheckpoint(c, 7));
        return buildSavedModel(dir);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  ],
];

describe.each(GRAPHS)('TF SavedModel graph structure (%s)', (_, build) => {
  let nodes: NodeDefJson[];
  let byName: Map<string, NodeDefJson>;

  beforeAll(() => {
    nodes = decodeSavedModel(build()).metaGraphs?.[0]?.graphDef?.node ?? [];
    byName = new Map(nodes.map((node) => [node.name, node]));
  });

  it('should use only allow-listed ops (no Assert), each with every required attr and no unknown attr', () => {
    const problems: string[] = [];
    for (const node of nodes) {
      const registration = OPS[node.op];
      if (registration === undefined) {
        problems.push(`${node.name}: op ${node.op} is not allowed`);
        continue;
      }
      const attrs = node.attr ?? {};
      for (const [name, spec] of Object.entries(registration.attrs)) {
        const value = attrs[name];
        if (value === undefined) {
          if (spec.required) {
            problems.push(`${node.name} (${node.op}): missing required attr ${name}`);
          }
          continue;
        }
        if (attrKind(value) !== spec.kind) {
          problems.push(`${node.name} (${node.op}): attr ${name} is a ${attrKind(value)}, expected ${spec.kind}`);
        } else if (spec.kind === 'type' && spec.allowed && !spec.allowed.includes(value.type as DataTypeName)) {
          problems.push(`${node.name} (${node.op}): ${name} = ${value.type} not in [${spec.allowed.join(', ')}]`);
        } else if (spec.kind === 'int' && spec.minimum !== undefined && (value.i ?? 0) < spec.minimum) {
          problems.push(`${node.name} (${node.op}): ${name} = ${value.i} < ${spec.minimum}`);
        }
      }
      for (const name of Object.keys(attrs)) {
        if (!(name in registration.attrs)) {
          problems.push(`${node.name} (${node.op}): attr ${name} is not in the op registration`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(nodes.some((node) => node.op === 'Assert')).toBe(false);
    // Shape is the one op outside the reference table; its attrs are written explicitly.
    for (const shape of nodes.filter((node) => node.op === 'Shape')) {
      expect(Object.keys(shape.attr ?? {}).sort()).toEqual(['T', 'out_type']);
    }
  });

  it('should form a DAG: unique names, inputs naming existing node outputs, and a topological order', () => {
    expect(byName.size).toBe(nodes.length);
    const problems: string[] = [];
    const indegree = new Map(nodes.map((node) => [node.name, 0]));
    const consumers = new Map<string, string[]>();
    for (const node of nodes) {
      for (const input of node.input ?? []) {
        const { node: source, output } = parseInput(input);
        if (!byName.has(source)) {
          problems.push(`${node.name}: input ${input} names no node`);
        } else if (output !== 0) {
          problems.push(`${node.name}: input ${input}: every op used has a single output`);
        }
        indegree.set(node.name, (indegree.get(node.name) ?? 0) + 1);
        consumers.set(source, [...(consumers.get(source) ?? []), node.name]);
      }
    }
    expect(problems).toEqual([]);
    // Kahn's algorithm: every node is reached iff there is no cycle.
    const ready = nodes.filter((node) => indegree.get(node.name) === 0).map((node) => node.name);
    let visited = 0;
    while (ready.length > 0) {
      const name = ready.pop() as string;
      visited++;
      for (const consumer of consumers.get(name) ?? []) {
        const remaining = (indegree.get(consumer) ?? 0) - 1;
        indegree.set(consumer, remaining);
        if (remaining === 0) {
          ready.push(consumer);
        }
      }
    }
    expect(visited).toBe(nodes.length);
    // Every node contributes to the output (no dead subgraphs).
    const live = new Set<string>();
    const stack = ['logits'];
    while (stack.length > 0) {
      const name = stack.pop() as string;
      if (!live.has(name)) {
        live.add(name);
        stack.push(...(byName.get(name)?.input ?? []).map((input) => parseInput(input).node));
      }
    }
    expect(nodes.filter((node) => !live.has(node.name)).map((node) => node.name)).toEqual([]);
  });

  it('should be well typed: each operand has the dtype its type attr (T, Tidx, Tdim, Index, ...) declares', () => {
    const outputType = (name: string): DataTypeName => {
      const node = byName.get(name) as NodeDefJson;
      return typeAttr(node, (OPS[node.op] as OpRegistration).output);
    };
    const problems: string[] = [];
    for (const node of nodes) {
      const registration = OPS[node.op] as OpRegistration;
      const inputs = node.input ?? [];
      const expected = registration.inputs.flatMap((slot) =>
        slot.startsWith('N*') ? new Array<string>(node.attr?.N?.i ?? 0).fill(slot.slice(2)) : [slot],
      );
      if (expected.length !== inputs.length) {
        problems.push(`${node.name} (${node.op}): ${inputs.length} inputs, expected ${expected.length}`);
        continue;
      }
      inputs.forEach((input, i) => {
        const want = typeAttr(node, expected[i] as string);
        const got = outputType(parseInput(input).node);
        if (want !== got) {
          problems.push(`${node.name} (${node.op}): input ${i} (${input}) is ${got}, ${expected[i]} says ${want}`);
        }
      });
    }
    expect(problems).toEqual([]);
    expect(outputType('logits')).toBe('DT_FLOAT');
  });

  it('should store every Const with a fully defined shape and one value of its dtype that fills the shape', () => {
    const consts = nodes.filter((node) => node.op === 'Const');
    expect(consts.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const node of consts) {
      const tensor = node.attr?.value?.tensor ?? {};
      const dims = (tensor.tensorShape?.dim ?? []).map((dim) => dim.size ?? 0);
      const elements = dims.reduce((product, dim) => product * dim, 1);
      const typed = [tensor.floatVal, tensor.intVal, tensor.int64Val, tensor.boolVal, tensor.doubleVal].filter(
        (values) => values !== undefined,
      );
      const content = tensor.tensorContent;
      if (tensor.tensorShape?.unknownRank === true || dims.some((dim) => !Number.isInteger(dim) || dim < 0)) {
        problems.push(`${node.name}: shape is not fully defined`);
      }
      if (tensor.dtype !== node.attr?.dtype?.type) {
        problems.push(`${node.name}: value dtype ${tensor.dtype} ≠ dtype attr ${node.attr?.dtype?.type}`);
      }
      if ((content !== undefined ? 1 : 0) + typed.length !== 1) {
        problems.push(`${node.name}: needs exactly one value representation`);
      } else if (content !== undefined) {
        const size = ELEMENT_BYTES[tensor.dtype ?? 'DT_INVALID'];
        if (size === undefined || content.byteLength !== elements * size) {
          problems.push(`${node.name}: ${content.byteLength} content bytes for ${elements} × ${tensor.dtype}`);
        }
      } else if ((typed[0] as unknown[]).length !== elements) {
        problems.push(`${node.name}: ${(typed[0] as unknown[]).length} values for ${elements} elements`);
      } else if (tensor.intVal !== undefined && tensor.dtype !== 'DT_INT32') {
        problems.push(`${node.name}: int_val holds ${tensor.dtype}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('TF SavedModel writer (models/sentiment_analysis/1)', () => {
  let bytes: Uint8Array;
  let saved: SavedModelJson;
  let meta: MetaGraphDefJson;
  let nodes: NodeDefJson[];
  let byName: Map<string, NodeDefJson>;
  let config: { id2label: Record<string, string> };

  beforeAll(() => {
    bytes = buildSavedModel(MODEL_VERSION_DIR);
    saved = decodeSavedModel(bytes);
    meta = saved.metaGraphs?.[0] ?? {};
    nodes = meta.graphDef?.node ?? [];
    byName = new Map(nodes.map((node) => [node.name, node]));
    config = JSON.parse(readFileSync(join(MODEL_VERSION_DIR, 'config.json'), 'utf8'));
  });

  it('should write schema version 1 and exactly one meta graph tagged exactly ["serve"]', () => {
    expect(saved.savedModelSchemaVersion).toBe(1);
    expect(saved.metaGraphs).toHaveLength(1);
    expect(meta.metaInfoDef?.tags).toEqual(['serve']);
    expect(meta.graphDef?.versions?.producer).toBe(1569);
    expect(meta.graphDef?.versions?.minConsumer ?? 0).toBe(0);
  });

  it('should declare serving_default: three int64 [-1, -1] inputs, float logits [-1, num_labels], predict', () => {
    expect(Object.keys(meta.signatureDef ?? {})).toEqual(['serving_default']);
    const signature = meta.signatureDef?.serving_default;
    const ids = { dtype: 'DT_INT64', tensorShape: { dim: [{ size: -1 }, { size: -1 }] } };
    expect(signature).toEqual({
      inputs: {
        attention_mask: { name: 'attention_mask:0', ...ids },
        input_ids: { name: 'input_ids:0', ...ids },
        token_type_ids: { name: 'token_type_ids:0', ...ids },
      },
      outputs: {
        logits: {
          name: 'logits:0',
          dtype: 'DT_FLOAT',
          tensorShape: { dim: [{ size: -1 }, { size: Object.keys(config.id2label).length }] },
        },
      },
      methodName: 'tensorflow/serving/predict',
    });
  });

  it('should back each signature tensor with a node of the same dtype and shape', () => {
    for (const name of ['input_ids', 'attention_mask', 'token_type_ids']) {
      const node = byName.get(name);
      expect(node?.op).toBe('Placeholder');
      expect(node?.attr?.dtype?.type).toBe('DT_INT64');
      expect(node?.attr?.shape?.shape).toEqual({ dim: [{ size: -1 }, { size: -1 }] });
    }
    const logits = byName.get('logits');
    expect(logits?.op).toBe('Identity');
    expect(logits?.attr?.T?.type).toBe('DT_FLOAT');
  });

  it('should store the word embeddings bit-exactly from model.safetensors', () => {
    const weights = SafetensorsFile.open(join(MODEL_VERSION_DIR, 'model.safetensors'));
    const info = weights.tensors.get('bert.embeddings.word_embeddings.weight');
    const expected = weights.float32('bert.embeddings.word_embeddings.weight', info?.shape ?? []);
    const content = byName.get('bert/embeddings/word_embeddings')?.attr?.value?.tensor?.tensorContent;
    expect(content).toBeDefined();
    const stored = new Float32Array(Uint8Array.from(content as Uint8Array).buffer);
    expect(Buffer.from(stored.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
  });

  it('should produce byte-identical files from identical inputs', () => {
    expect(Buffer.from(buildSavedModel(MODEL_VERSION_DIR)).equals(Buffer.from(bytes))).toBe(true);
  });

  describe('bad model folders', () => {
    let dir: string;
    let tensors: Record<string, { shape: readonly number[]; data: Float32Array }>;

    beforeAll(() => {
      const file = SafetensorsFile.open(join(MODEL_VERSION_DIR, 'model.safetensors'));
      tensors = Object.fromEntries(
        [...file.tensors.values()].map((info) => [
          info.name,
          { shape: info.shape, data: file.float32(info.name, info.shape) },
        ]),
      );
    });
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'saved-model-'));
      copyFileSync(join(MODEL_VERSION_DIR, 'config.json'), join(dir, 'config.json'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const writeWeights = (entries: typeof tensors) =>
      writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(entries));
    const editConfig = (edit: Record<string, unknown>) => {
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, ...edit }));
    };

    it('should name a missing weight and the file', () => {
      const { ['bert.encoder.layer.1.output.dense.bias']: _dropped, ...rest } = tensors;
      writeWeights(rest);
      expect(() => buildSavedModel(dir)).toThrow(
        `${join(dir, 'model.safetensors')}: missing tensor "bert.encoder.layer.1.output.dense.bias" (expected F32 [128])`,
      );
    });

    it('should name the tensor whose data a truncated file cuts off', () => {
      writeWeights(tensors);
      const full = readFileSync(join(dir, 'model.safetensors'));
      const last = [...SafetensorsFile.parse(full).tensors.values()].sort((a, b) => b.end - a.end)[0];
      writeFileSync(join(dir, 'model.safetensors'), full.subarray(0, full.byteLength - 100));
      expect(() => buildSavedModel(dir)).toThrow(
        new RegExp(`tensor "${last?.name}": data_offsets .* \\(truncated file\\?\\)`),
      );
    });

    it('should name a weight whose shape does not match config.json', () => {
      writeWeights(tensors);
      editConfig({ intermediate_size: 256 });
      expect(() => buildSavedModel(dir)).toThrow(
        /tensor "bert\.encoder\.layer\.0\.intermediate\.dense\.weight" has shape \[512, 128\], expected \[256, 128\]/,
      );
    });

    it('should refuse a checkpoint with more layers than config.json describes', () => {
      writeWeights(tensors);
      editConfig({ num_hidden_layers: 1 });
      expect(() => buildSavedModel(dir)).toThrow(/tensor\(s\) not used .*bert\.encoder\.layer\.1\./);
    });

    it('should refuse an activation it cannot export exactly', () => {
      writeWeights(tensors);
      editConfig({ hidden_act: 'gelu_new' });
      expect(() => buildSavedModel(dir)).toThrow(/config\.json: not a supported BERT config: hidden_act/);
    });

    it('should refuse a model type it has no architecture for', () => {
      writeWeights(tensors);
      editConfig({ model_type: 'roberta' });
      expect(() => buildSavedModel(dir)).toThrow(/model_type "roberta" has no exporter/);
    });
  });
});
