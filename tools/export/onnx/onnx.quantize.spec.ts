/**
 * Dynamic int8 quantization, checked in ONNX Runtime:
 * - op level: one-operator graphs (MatMul, Gemm with transB and bias, Gather) quantized and run, against a float64
 *   reference computed from the same int8 weights and the activation quantization DynamicQuantizeLinear defines
 *   (inputs chosen so that its scale and zero point are exact: 2 and 128);
 * - model level: tiny BERT exports against their fp32 logits, and the committed model.int8.onnx against what the
 *   committed model.onnx gives (SST-2 accuracy is checked by test/int8-model.e2e-spec.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { OnnxSession } from '../../../src/inference/onnx/onnx-session.js';
import type { TokenizedBatch } from '../../../src/model/tokenized-batch.js';
import { REPO_ROOT } from '../../common/sst2.js';
import {
  random,
  type TinyConfig,
  tinyCheckpoint,
  writeTinyBertFolder,
} from '../architectures/tiny-bert.test-support.js';
import { exportOnnxModel } from './onnx.writer.js';
import {
  floatValues,
  INT8_MODEL_FILE,
  QUANTIZATION_METADATA_KEY,
  quantizeMatrix,
  quantizeModel,
  quantizeOnnxBytes,
} from './onnx.quantize.js';
import {
  type AttributeJson,
  decodeModel,
  encodeModel,
  type ModelJson,
  type NodeJson,
  onnxDataType,
  type TensorJson,
} from './onnx-proto.js';

const MODEL_VERSION_DIR = resolve(REPO_ROOT, 'models/sentiment_analysis/1');
const FLOAT = onnxDataType('FLOAT');
const INT8 = onnxDataType('INT8');

const floatTensor = (name: string, dims: number[], data: Float32Array): TensorJson => ({
  name,
  dims,
  dataType: FLOAT,
  rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
});

const node = (opType: string, input: string[], output: string, attribute: AttributeJson[] = []): NodeJson => ({
  opType,
  input,
  output: [output],
  name: output,
  ...(attribute.length > 0 ? { attribute } : {}),
});

/** A model with OnnxSession's interface: `input_ids` int64 [batch, width] in, `logits` float [batch, labels] out. */
function modelOf(nodes: NodeJson[], initializer: TensorJson[], width: number, labels: number, opset = 14): ModelJson {
  const dims = (last: number) => ({ dim: [{ dimParam: 'batch_size' }, { dimValue: last }] });
  return {
    irVersion: 7,
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'quantize-test',
      node: nodes,
      initializer,
      input: [{ name: 'input_ids', type: { tensorType: { elemType: onnxDataType('INT64'), shape: dims(width) } } }],
      output: [{ name: 'logits', type: { tensorType: { elemType: FLOAT, shape: dims(labels) } } }],
    },
  };
}

function batchOf(rows: number[][]): TokenizedBatch {
  const width = rows[0]?.length ?? 0;
  return {
    batchSize: rows.length,
    sequenceLength: width,
    padId: 0,
    inputIds: Int32Array.from(rows.flat()),
    attentionMask: new Int32Array(rows.length * width).fill(1),
    tokenTypeIds: new Int32Array(rows.length * width),
    lengths: rows.map(() => width),
    truncated: rows.map(() => false),
  };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'onnx-quantize-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a model in ONNX Runtime (through OnnxSession, as v1 does) and returns the logits as rows. */
async function run(model: ModelJson | Uint8Array, rows: number[][]): Promise<number[][]> {
  const path = join(dir, `model-${Math.random().toString(36).slice(2)}.onnx`);
  writeFileSync(path, model instanceof Uint8Array ? model : encodeModel(model));
  const session = await OnnxSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const logits = await session.run(batchOf(rows));
    return Array.from({ length: logits.rows }, (_, r) =>
      Array.from(logits.data.subarray(r * logits.columns, (r + 1) * logits.columns)),
    );
  } finally {
    await session.release();
  }
}

/** The int8 weights `quantizeModel` wrote for `name`, as [K, N] (or [V, D]) rows, with their scales. */
function quantizedWeight(model: ModelJson, name: string): { q: Int8Array; scale: Float32Array } {
  const find = (suffix: string) => model.graph?.initializer?.find((t) => t.name === `${name}_${suffix}`);
  const q = find('quantized');
  const scale = find('scale');
  if (q?.rawData === undefined || scale === undefined) {
    throw new Error(`no quantized ${name}`);
  }
  expect(q.dataType).toBe(INT8);
  return { q: new Int8Array(q.rawData.slice().buffer), scale: floatValues(scale) };
}

/**
 * Rows of integers in [−255, 255] including both ends: DynamicQuantizeLinear's scale is then (255 + 255) / 255 = 2
 * and its zero point round(255 / 2) = 128 (ties to even), exactly, so the reference below is exact.
 */
function activations(batch: number, width: number, seed: number): number[][] {
  const r = random(seed);
  const rows = Array.from({ length: batch }, () => Array.from(r(width, 255), (v) => Math.round(v)));
  rows[0]![0] = 255;
  rows[0]![1] = -255;
  return rows;
}

const rint = (x: number) => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** float64 x · W from uint8 activations (scale 2, zero point 128) and int8 weights with a scale per column. */
function referenceMatMul(rows: number[][], q: Int8Array, scale: Float32Array, columns: number): number[][] {
  return rows.map((x) =>
    Array.from({ length: columns }, (_, n) => {
      let acc = 0;
      x.forEach((value, k) => {
        const xq = Math.min(255, Math.max(0, rint(value / 2) + 128));
        acc += (xq - 128) * (q[k * columns + n] as number);
      });
      return acc * 2 * (scale[n] as number);
    }),
  );
}

function expectClose(actual: number[][], expected: number[][], relative: number): void {
  const largest = Math.max(...expected.flat().map(Math.abs));
  expect(largest).toBeGreaterThan(0);
  actual.forEach((row, r) =>
    row.forEach((value, i) => expect(Math.abs(value - expected[r]![i]!)).toBeLessThanOrEqual(relative * largest)),
  );
}

/** Each column within `relative` of that column's largest value (columns differ in magnitude by design). */
function expectColumnsClose(actual: number[][], expected: number[][], relative: number): void {
  expected[0]!.forEach((_, n) => {
    const column = (rows: number[][]) => rows.map((row) => [row[n]!]);
    expectClose(column(actual), column(expected), relative);
  });
}

/** [K, N] weights whose columns differ in magnitude by 1000×, so a per-tensor scale would wreck the small ones. */
function weights(k: number, n: number, seed: number): Float32Array {
  const w = random(seed)(k * n, 1);
  return w.map((value, i) => value * 10 ** ((i % n) - 1));
}

describe('quantizeMatrix', () => {
  it('should give each column its own symmetric scale, max |w| / 127, and round to the nearest step', () => {
    const w = weights(6, 4, 1);
    const { values, scales, maxRoundingSteps } = quantizeMatrix(w, 6, 4, 1);
    for (let n = 0; n < 4; n++) {
      const column = Array.from({ length: 6 }, (_, k) => w[k * 4 + n] as number);
      expect(scales[n]).toBe(Math.fround(Math.max(...column.map(Math.abs)) / 127));
      column.forEach((value, k) => {
        expect(Math.abs(value - (values[k * 4 + n] as number) * (scales[n] as number))).toBeLessThanOrEqual(
          (scales[n] as number) / 2 + 1e-9,
        );
      });
      expect(Math.max(...column.map((_, k) => Math.abs(values[k * 4 + n] as number)))).toBe(127);
    }
    expect(maxRoundingSteps).toBeLessThanOrEqual(0.5);
  });

  it('should quantize rows with axis 0, read transposed input, and keep an all-zero channel at zero', () => {
    const w = Float32Array.of(0, 0, 0, 1, -2, 4);
    const byRow = quantizeMatrix(w, 2, 3, 0);
    expect([...byRow.scales]).toEqual([1, Math.fround(4 / 127)]);
    expect([...byRow.values]).toEqual([0, 0, 0, 32, -64, 127]);
    // The same matrix stored [3, 2] and read transposed, a scale per column of the [2, 3] result.
    const stored = Float32Array.of(0, 1, 0, -2, 0, 4);
    const transposed = quantizeMatrix(stored, 2, 3, 1, true);
    expect([...transposed.values]).toEqual([0, 0, 0, 127, -127, 127]);
  });
});

describe('quantizeModel, op level in ONNX Runtime', () => {
  const K = 24;
  const N = 3;

  it('should run MatMul as DynamicQuantizeLinear → MatMulInteger with per-column int8 weights, exactly', async () => {
    const w = weights(K, N, 2);
    const model = modelOf(
      [node('Cast', ['input_ids'], 'x', [{ name: 'to', type: 'INT', i: FLOAT }]), node('MatMul', ['x', 'w'], 'logits')],
      [floatTensor('w', [K, N], w)],
      K,
      N,
    );
    const { model: quantized, report } = quantizeModel(model);
    expect(quantized.graph?.node?.map((n) => n.opType)).toEqual([
      'Cast',
      'DynamicQuantizeLinear',
      'Mul',
      'MatMulInteger',
      'Cast',
      'Mul',
    ]);
    expect(quantized.graph?.initializer?.some((t) => t.name === 'w')).toBe(false);
    expect(report).toMatchObject({ matmuls: 1, gathers: 0, quantizedElements: K * N });
    const rows = activations(4, K, 3);
    const { q, scale } = quantizedWeight(quantized, 'w');
    expectClose(await run(quantized, rows), referenceMatMul(rows, q, scale, N), 1e-6);
    // And close to the fp32 product, column by column: within the two roundings' error.
    expectColumnsClose(await run(quantized, rows), await run(model, rows), 0.03);
  });

  it('should run Gemm (transB, bias) on the transposed int8 weights, then add the bias', async () => {
    const stored = weights(N, K, 4); // [N, K], as nn.Linear stores it
    const bias = Float32Array.of(0.5, -1, 2);
    const model = modelOf(
      [
        node('Cast', ['input_ids'], 'x', [{ name: 'to', type: 'INT', i: FLOAT }]),
        node('Gemm', ['x', 'w', 'b'], 'logits', [{ name: 'transB', type: 'INT', i: 1 }]),
      ],
      [floatTensor('w', [N, K], stored), floatTensor('b', [N], bias)],
      K,
      N,
    );
    const { model: quantized } = quantizeModel(model);
    expect(quantized.graph?.node?.map((n) => n.opType)).toContain('MatMulInteger');
    expect(quantized.graph?.node?.at(-1)).toMatchObject({ opType: 'Add', output: ['logits'] });
    const rows = activations(3, K, 5);
    const { q, scale } = quantizedWeight(quantized, 'w');
    const expected = referenceMatMul(rows, q, scale, N).map((row) => row.map((v, n) => v + (bias[n] as number)));
    expectClose(await run(quantized, rows), expected, 1e-6);
    expectColumnsClose(await run(quantized, rows), await run(model, rows), 0.03);
  });

  it('should run Gather on an int8 table with a scale per row', async () => {
    const V = 10;
    const table = weights(V, N, 6);
    const model = modelOf(
      [
        node('Gather', ['table', 'input_ids'], 'rows'),
        node('ReduceMean', ['rows'], 'logits', [
          { name: 'axes', type: 'INTS', ints: [1] },
          { name: 'keepdims', type: 'INT', i: 0 },
        ]),
      ],
      [floatTensor('table', [V, N], table)],
      4,
      N,
    );
    const { model: quantized, report } = quantizeModel(model);
    expect(report).toMatchObject({ matmuls: 0, gathers: 1 });
    const { q, scale } = quantizedWeight(quantized, 'table');
    expect(scale.length).toBe(V);
    const rows = [
      [0, 3, 9, 3],
      [7, 7, 1, 2],
    ];
    const expected = rows.map((ids) =>
      Array.from(
        { length: N },
        (_, n) => ids.reduce((sum, id) => sum + (q[id * N + n] as number) * (scale[id] as number), 0) / ids.length,
      ),
    );
    expectClose(await run(quantized, rows), expected, 1e-6);
  });

  it('should quantize an activation once for every MatMul that reads it', async () => {
    const model = modelOf(
      [
        node('Cast', ['input_ids'], 'x', [{ name: 'to', type: 'INT', i: FLOAT }]),
        node('MatMul', ['x', 'w1'], 'y1'),
        node('MatMul', ['x', 'w2'], 'y2'),
        node('Add', ['y1', 'y2'], 'logits'),
      ],
      [floatTensor('w1', [K, N], weights(K, N, 7)), floatTensor('w2', [K, N], weights(K, N, 8))],
      K,
      N,
    );
    const { model: quantized } = quantizeModel(model);
    expect(quantized.graph?.node?.filter((n) => n.opType === 'DynamicQuantizeLinear')).toHaveLength(1);
    const rows = activations(2, K, 9);
    const [a, b] = [quantizedWeight(quantized, 'w1'), quantizedWeight(quantized, 'w2')];
    const one = referenceMatMul(rows, a.q, a.scale, N);
    const two = referenceMatMul(rows, b.q, b.scale, N);
    expectClose(
      await run(quantized, rows),
      one.map((row, r) => row.map((v, n) => v + two[r]![n]!)),
      1e-6,
    );
  });

  it('should leave float what cannot take the int8 form, without keeping two copies of a weight', () => {
    const w = weights(K, N, 10);
    const model = modelOf(
      [
        node('Cast', ['input_ids'], 'x', [{ name: 'to', type: 'INT', i: FLOAT }]),
        // Shared with an Add: stays float for both.
        node('MatMul', ['x', 'shared'], 'y'),
        node('Add', ['y', 'bias_like'], 'z'),
        node('Gemm', ['x', 'scaled'], 'g', [{ name: 'alpha', type: 'FLOAT', f: 0.5 }]),
        node('Add', ['z', 'g'], 'logits'),
      ],
      [floatTensor('shared', [K, N], w), floatTensor('bias_like', [K, N], w), floatTensor('scaled', [K, N], w)],
      K,
      N,
    );
    // 'bias_like' is only read by an Add; 'scaled' by a Gemm with alpha ≠ 1.
    const { model: quantized, report } = quantizeModel(model);
    expect(report.matmuls).toBe(1);
    expect(quantized.graph?.initializer?.map((t) => t.name).sort()).toEqual(
      ['bias_like', 'scaled', 'shared_quantized', 'shared_scale', 'shared_zero_point'].sort(),
    );
    expect(quantized.graph?.node?.find((n) => n.opType === 'Gemm')?.input).toEqual(['x', 'scaled']);
  });

  it('should refuse a model below opset 11 (DynamicQuantizeLinear)', () => {
    expect(() => quantizeModel(modelOf([], [], 1, 1, 10))).toThrow('needs opset 11 or later');
  });
});

describe('quantizeModel, model level', () => {
  it('should give a tiny BERT export logits close to its fp32 ones, recording what it did', async () => {
    const c: TinyConfig = {
      vocab: 40,
      hidden: 32,
      layers: 2,
      heads: 2,
      intermediate: 64,
      positions: 12,
      types: 2,
      labels: 2,
    };
    const folder = mkdtempSync(join(dir, 'tiny-'));
    writeTinyBertFolder(folder, c, tinyCheckpoint(c, 77));
    const fp32 = exportOnnxModel(folder).bytes;
    const { bytes, report } = quantizeOnnxBytes(fp32);
    // Every MatMul on a weight (the emitter's per-head projections included), the pooler and the classifier; the
    // word and token-type tables (position embeddings are sliced, not gathered, and stay float).
    const graph = decodeModel(fp32).graph ?? {};
    const weightNames = new Set(graph.initializer?.map((t) => t.name));
    const onWeights = graph.node?.filter((n) => n.opType === 'MatMul' && weightNames.has(n.input?.[1])) ?? [];
    expect(onWeights.length).toBeGreaterThanOrEqual(6 * c.layers + 2);
    expect(report).toMatchObject({ matmuls: onWeights.length, gathers: 2 });
    const metadata = decodeModel(bytes).metadataProps ?? [];
    expect(metadata.map((p) => p.key)).toEqual([QUANTIZATION_METADATA_KEY, 'source_sha256']);
    const rows = [
      [2, 5, 7, 11, 13, 17, 19, 4, 3, 1, 30, 39],
      [2, 9, 8, 3, 6, 6, 6, 6, 6, 6, 6, 6],
    ];
    const [expected, actual] = [await run(fp32, rows), await run(bytes, rows)];
    expectClose(actual, expected, 0.05);
    // The weights' bytes (a tiny graph's file is mostly node names, so the file itself shrinks less).
    const weightBytes = (model: Uint8Array) =>
      (decodeModel(model).graph?.initializer ?? []).reduce((sum, t) => sum + (t.rawData?.byteLength ?? 0), 0);
    expect(weightBytes(bytes)).toBeLessThan(0.4 * weightBytes(fp32));
  });

  it('should give the committed model.int8.onnx, byte for byte, from the committed model.onnx', () => {
    // Also the proof of determinism: the committed file was written by an earlier run.
    const { bytes } = quantizeOnnxBytes(readFileSync(join(MODEL_VERSION_DIR, 'model.onnx')));
    expect(Buffer.from(bytes).equals(readFileSync(join(MODEL_VERSION_DIR, INT8_MODEL_FILE)))).toBe(true);
  });
});
