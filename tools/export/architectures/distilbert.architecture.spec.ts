/**
 * DistilBertForSequenceClassification exported with both emitters (ONNX, TF SavedModel) from tiny random
 * checkpoints, run in ONNX Runtime (through OnnxSession, as v1 runs it) and in tfjs (as TF Serving would run the
 * SavedModel), against a float64 re-implementation of transformers' DistilBERT: 1 and several heads, GELU and
 * ReLU, padded batches and unpadded rows. Also the interface of a Hugging Face Optimum export (no token_type_ids)
 * and the config.json checks.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxSession } from '../../../src/inference/onnx/onnx-session.js';
import { batchOf, maxAbsDiff } from '../../../test/support/batches.js';
import { SavedModelRunner } from '../../../test/support/tfjs-savedmodel.js';
import { encodeSafetensors } from '../safetensors.js';
import { exportSavedModel } from '../saved-model.export.js';
import { exportOnnxModel } from '../onnx/onnx.writer.js';
import { decodeModel } from '../onnx/onnx-proto.js';
import { REPO_ROOT } from '../../common/sst2.js';
import { decodeSavedModel } from '../tf/tensorflow-proto.js';
import {
  distilBertConfigJson,
  referenceDistilBertLogits,
  type TinyDistilBertConfig,
  tinyDistilBertCheckpoint,
  writeTinyDistilBertFolder,
} from './tiny-distilbert.test-support.js';
import { TINY_SIZES } from './transformer.test-support.js';

const SESSION_OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1 };
/** Hugging Face Optimum's ATOL_FOR_VALIDATION; float32 against float64 agrees to ~1e-6 on these O(1) logits. */
const TOLERANCE = 1e-4;
const PAD_ID = 6;

const tinyConfig = (heads: number, activation: TinyDistilBertConfig['activation']): TinyDistilBertConfig => ({
  ...TINY_SIZES,
  heads,
  activation,
});

/** Row 0 uses every position; row 1 has 4 real tokens, then padding with a non-zero id. */
const ROWS = [
  [2, 5, 7, 11, 13, 17, 19, 4, 3, 1],
  [2, 9, 8, 3],
];

describe('DistilBERT exported to ONNX and to a TF SavedModel vs a float64 reference (tiny random checkpoints)', () => {
  let dir: string;
  const measured: string[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tiny-distilbert-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  afterAll(() => {
    if (measured.length > 0) {
      console.log(`DistilBERT parity, max |logit − float64 reference|:\n  ${measured.join('\n  ')}`);
    }
  });

  it.each([
    [1, 'gelu'],
    [1, 'relu'],
    [3, 'gelu'],
    [3, 'relu'],
  ] as const)('should compute the reference logits with %i head(s) and %s, padded or not', async (heads, act) => {
    const c = tinyConfig(heads, act);
    const weights = tinyDistilBertCheckpoint(c, 2024 + heads);
    writeTinyDistilBertFolder(dir, c, weights);
    const expected = ROWS.map((row) =>
      referenceDistilBertLogits(
        c,
        weights,
        row,
        row.map(() => 1),
      ),
    );
    expect(Math.max(...expected.flat().map(Math.abs))).toBeGreaterThan(0.1);
    // Padding must change nothing: the padded row's reference equals the unpadded one.
    const paddedMask = [...ROWS[1]!.map(() => 1), ...new Array<number>(6).fill(0)];
    const paddedRow = [...ROWS[1]!, ...new Array<number>(6).fill(PAD_ID)];
    expect(maxAbsDiff(referenceDistilBertLogits(c, weights, paddedRow, paddedMask), expected[1]!)).toBeLessThan(1e-12);

    const onnx = exportOnnxModel(dir);
    expect(onnx.modelType).toBe('distilbert');
    const ops = new Set(onnx.graph.nodes.map((node) => node.op));
    expect(ops.has('concat')).toBe(heads > 1);
    expect(ops.has('erf')).toBe(act === 'gelu');
    expect(ops.has('relu')).toBe(true); // pre_classifier, and the FFN with activation "relu"
    const onnxPath = join(dir, 'model.onnx');
    writeFileSync(onnxPath, onnx.bytes);
    const session = await OnnxSession.create(onnxPath, SESSION_OPTIONS);
    let onnxDiff: number;
    try {
      expect(session.inputNames).toEqual(['input_ids', 'attention_mask']);
      const batched = await session.run(batchOf(ROWS, PAD_ID));
      const single = await session.run(batchOf([ROWS[1]!], PAD_ID));
      expect([batched.rows, batched.columns]).toEqual([2, 3]);
      onnxDiff = maxAbsDiff(batched.data, expected.flat());
      expect(onnxDiff).toBeLessThan(TOLERANCE);
      expect(maxAbsDiff(single.data, batched.data.subarray(3))).toBeLessThan(1e-5);
    } finally {
      await session.release();
    }

    const runner = SavedModelRunner.fromBytes(exportSavedModel(dir).bytes);
    let tfDiff: number;
    try {
      const batch = batchOf(ROWS, PAD_ID);
      const rows = (values: Int32Array) => [Array.from(values.subarray(0, 10)), Array.from(values.subarray(10))];
      // The runner refuses inputs the signature does not list, so a token_type_ids input would fail here.
      const batched = runner.predict({ input_ids: rows(batch.inputIds), attention_mask: rows(batch.attentionMask) })
        .logits as number[][];
      const single = runner.predict({ input_ids: [ROWS[1]!], attention_mask: [[1, 1, 1, 1]] }).logits as number[][];
      tfDiff = maxAbsDiff(batched.flat(), expected.flat());
      expect(tfDiff).toBeLessThan(TOLERANCE);
      expect(maxAbsDiff(single.flat(), batched[1]!)).toBeLessThan(1e-5);
    } finally {
      runner.dispose();
    }
    measured.push(
      `${heads} head(s), ${act}: ONNX Runtime ${onnxDiff.toExponential(2)}, tfjs ${tfDiff.toExponential(2)}`,
    );
  });

  it('should declare the inputs and output of a Hugging Face export, less token_type_ids, also in the signature', () => {
    const c = { ...tinyConfig(2, 'gelu'), labels: 3 };
    writeTinyDistilBertFolder(dir, c, tinyDistilBertCheckpoint(c, 1));
    const graph = decodeModel(exportOnnxModel(dir).bytes).graph ?? {};
    // A BERT with 3 labels as the PyTorch exporter writes it (tools/fixtures/make_pytorch_onnx.py): DistilBERT's
    // Optimum export declares the same inputs without token_type_ids, and the same logits.
    const torch = decodeModel(readFileSync(join(REPO_ROOT, 'test/fixtures/onnx/pytorch-bert.onnx'))).graph ?? {};
    expect(graph.name).toBe('distilbert');
    expect(graph.input).toEqual(torch.input?.filter((input) => input.name !== 'token_type_ids'));
    expect(graph.input?.map((input) => input.name)).toEqual(['input_ids', 'attention_mask']);
    expect(graph.output).toEqual(torch.output);
    // Standard opset-14 operators; Relu takes no attributes.
    const relu = (graph.node ?? []).filter((n) => n.opType === 'Relu');
    expect(relu.length).toBeGreaterThan(0);
    expect(relu.every((n) => n.attribute === undefined && n.input?.length === 1 && (n.domain ?? '') === '')).toBe(true);

    const signature = decodeSavedModel(exportSavedModel(dir).bytes).metaGraphs?.[0]?.signatureDef?.serving_default;
    const ids = { dtype: 'DT_INT64', tensorShape: { dim: [{ size: -1 }, { size: -1 }] } };
    expect(signature?.inputs).toEqual({
      attention_mask: { name: 'attention_mask:0', ...ids },
      input_ids: { name: 'input_ids:0', ...ids },
    });
    expect(Object.keys(signature?.outputs ?? {})).toEqual(['logits']);
  });

  it('should read the PyTorch parameter names of DistilBertForSequenceClassification', () => {
    const c = { ...tinyConfig(2, 'gelu'), layers: 1 };
    const layer = 'distilbert.transformer.layer.0';
    const linear = (prefix: string) => [`${prefix}.weight`, `${prefix}.bias`];
    const names = [
      'distilbert.embeddings.word_embeddings.weight',
      'distilbert.embeddings.position_embeddings.weight',
      ...linear('distilbert.embeddings.LayerNorm'),
      ...['q_lin', 'k_lin', 'v_lin', 'out_lin'].flatMap((name) => linear(`${layer}.attention.${name}`)),
      ...['sa_layer_norm', 'ffn.lin1', 'ffn.lin2', 'output_layer_norm'].flatMap((name) => linear(`${layer}.${name}`)),
      ...linear('pre_classifier'),
      ...linear('classifier'),
    ];
    // hf-checkpoints.md §3.2: exactly these tensors, and the exporter reads every one of them.
    const weights = tinyDistilBertCheckpoint(c, 3);
    expect(Object.keys(weights).sort()).toEqual([...names].sort());
    // An old checkpoint's position_ids buffer is ignored; anything else left unread is an error.
    const buffer = { 'distilbert.embeddings.position_ids': { shape: [1, c.positions], data: new Float32Array(10) } };
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors({ ...weights, ...buffer }));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(distilBertConfigJson(c)));
    expect(exportOnnxModel(dir).graph.inputs).toHaveLength(2);
    const extra = { 'vocab_projector.bias': { shape: [c.vocab], data: new Float32Array(c.vocab) } };
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors({ ...weights, ...extra }));
    expect(() => exportOnnxModel(dir)).toThrow(
      /1 tensor\(s\) not used by the distilbert graph .*vocab_projector\.bias/,
    );
  });

  it.each([
    [{ activation: 'gelu_new' }, /not a supported DistilBERT config: activation: only "gelu" .* and "relu"/],
    [{ n_heads: 5 }, /not a supported DistilBERT config: \(root\): dim must be a multiple of n_heads/],
    [{ n_layers: 0 }, /not a supported DistilBERT config: n_layers:/],
  ])('should refuse a config.json with %j', (edit, message) => {
    const c = tinyConfig(2, 'gelu');
    writeTinyDistilBertFolder(dir, c, tinyDistilBertCheckpoint(c, 1));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...distilBertConfigJson(c), ...edit }));
    expect(() => exportSavedModel(dir)).toThrow(message);
  });
});
