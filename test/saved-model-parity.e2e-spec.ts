/**
 * The TensorFlow Serving export computes the same logits as the model it was generated from: the SavedModel built
 * from models/sentiment_analysis/1 (config.json + model.safetensors) is run in TensorFlow.js and compared with
 * the PyTorch golden logits and with ONNX Runtime on model.onnx, unpadded and in padded batches, on the golden set
 * always and on SST-2 dev when it is available. Also checks that the committed saved_model.pb is not stale.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT, hasSst2, readSst2, sst2Path } from '../tools/common/sst2.js';
import { buildSavedModel } from '../tools/export/export-saved-model.js';
import { OnnxSession } from '../src/inference/onnx/onnx-session.js';
import { BertTokenizer } from '../src/model/bert.tokenizer.js';
import type { TokenizedBatch } from '../src/model/tokenized-batch.js';
import { loadModelBundle, type ModelBundle } from '../src/model/model-bundle.js';
import { type FlatTensor, SavedModelRunner } from './support/tfjs-savedmodel.js';
import { argmaxRows, batchOf, maxAbsDiff } from './support/batches.js';
import { TORCH_GOLDEN } from './support/golden.js';

const MODEL_DIR = resolve(REPO_ROOT, 'models/sentiment_analysis');
const VERSION = '1';
const COMMITTED_SAVED_MODEL = join(MODEL_DIR, VERSION, 'saved_model.pb');
/** Largest |logit difference| accepted between runtimes (float32 arithmetic in different orders). */
const TOLERANCE = 1e-4;
const DEV_BATCH_SIZE = 32;

const golden = TORCH_GOLDEN;

function runTfjs(runner: SavedModelRunner, batch: TokenizedBatch): Float32Array {
  const shape = [batch.batchSize, batch.sequenceLength];
  const feeds: Record<string, FlatTensor> = {
    input_ids: { shape, data: batch.inputIds },
    attention_mask: { shape, data: batch.attentionMask },
    token_type_ids: { shape, data: batch.tokenTypeIds },
  };
  const logits = runner.predictFlat(feeds).logits;
  if (logits === undefined || !(logits.data instanceof Float32Array)) {
    throw new Error('the SavedModel returned no float logits');
  }
  expect(logits.shape).toEqual([batch.batchSize, 2]);
  return logits.data;
}

describe('TF Serving export: parity of saved_model.pb (run in tfjs) with PyTorch and ONNX Runtime', () => {
  let bundle: ModelBundle;
  let bytes: Uint8Array;
  let runner: SavedModelRunner;
  let onnx: OnnxSession;
  let tokenizer: BertTokenizer;
  const measured: string[] = [];

  beforeAll(async () => {
    bundle = loadModelBundle(MODEL_DIR, VERSION);
    bytes = buildSavedModel(bundle.dir);
    runner = SavedModelRunner.fromBytes(bytes);
    onnx = await OnnxSession.create(bundle.files.onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    tokenizer = BertTokenizer.fromFile(bundle.files.tokenizer, bundle.config.maxLength);
  });
  afterAll(async () => {
    runner.dispose();
    await onnx.release();
    if (measured.length > 0) {
      console.log(`SavedModel parity (tolerance ${TOLERANCE}):\n  ${measured.join('\n  ')}`);
    }
  });

  it('should expose the serving_default signature TF Serving will see', () => {
    expect(runner.signature.methodName).toBe('tensorflow/serving/predict');
    expect(runner.signature.inputs.map((input) => [input.alias, input.tensorName, input.dtype])).toEqual([
      ['attention_mask', 'attention_mask:0', 'DT_INT64'],
      ['input_ids', 'input_ids:0', 'DT_INT64'],
      ['token_type_ids', 'token_type_ids:0', 'DT_INT64'],
    ]);
    expect(runner.signature.outputs).toEqual([
      { alias: 'logits', tensorName: 'logits:0', dtype: 'DT_FLOAT', shape: [-1, bundle.config.labels.length] },
    ]);
  });

  it('should match the PyTorch golden logits and ONNX Runtime, one sentence at a time', async () => {
    let vsTorch = 0;
    let vsOnnx = 0;
    for (const testCase of golden.cases) {
      const batch = batchOf([testCase.input_ids], tokenizer.padId);
      const tfjs = runTfjs(runner, batch);
      const ort = (await onnx.run(batch)).data;
      vsTorch = Math.max(vsTorch, maxAbsDiff(tfjs, testCase.logits));
      vsOnnx = Math.max(vsOnnx, maxAbsDiff(tfjs, ort));
      expect(argmaxRows(tfjs, 2)).toEqual(argmaxRows(testCase.logits, 2));
    }
    measured.push(
      `golden (${golden.cases.length}, unpadded): max |tfjs − torch| ${vsTorch.toExponential(2)}, |tfjs − onnx| ${vsOnnx.toExponential(2)}`,
    );
    expect(vsTorch).toBeLessThan(TOLERANCE);
    expect(vsOnnx).toBeLessThan(TOLERANCE);
  }, 60_000);

  it('should give the same logits when the golden set runs as one padded batch', async () => {
    const batch = batchOf(
      golden.cases.map((testCase) => testCase.input_ids),
      tokenizer.padId,
    );
    // The longest golden sentence sets the padding, so most rows carry padded positions.
    expect(batch.lengths.filter((length) => length < batch.sequenceLength).length).toBeGreaterThan(0);
    const batched = runTfjs(runner, batch);
    const unpadded = golden.cases.flatMap((testCase) => [
      ...runTfjs(runner, batchOf([testCase.input_ids], tokenizer.padId)),
    ]);
    const torch = golden.cases.flatMap((testCase) => testCase.logits);
    const ort = (await onnx.run(batch)).data;
    const vsUnpadded = maxAbsDiff(batched, unpadded);
    const vsTorch = maxAbsDiff(batched, torch);
    const vsOnnx = maxAbsDiff(batched, ort);
    measured.push(
      `golden (one padded batch of ${batch.batchSize} × ${batch.sequenceLength}): max |padded − unpadded| ${vsUnpadded.toExponential(2)}, |tfjs − torch| ${vsTorch.toExponential(2)}, |tfjs − onnx| ${vsOnnx.toExponential(2)}`,
    );
    expect(vsUnpadded).toBeLessThan(TOLERANCE);
    expect(vsTorch).toBeLessThan(TOLERANCE);
    expect(vsOnnx).toBeLessThan(TOLERANCE);
  }, 60_000);

  const withDev = hasSst2('dev') ? it : it.skip;
  if (!hasSst2('dev')) {
    console.log(`SST-2 dev not found at ${sst2Path('dev')} (set SST2_DIR): skipping the dev-set parity test.`);
  }

  withDev(
    `should match ONNX Runtime on the whole SST-2 dev set, in padded batches of ${DEV_BATCH_SIZE}`,
    async () => {
      const rows = readSst2('dev');
      const started = performance.now();
      // Batch sentences of similar length together: tfjs' CPU kernels are slow, and this halves the padded
      // tokens (each batch is still padded to its longest sentence).
      const lengths = (await tokenizer.encodeIds(rows.map((row) => row.sentence))).map((ids) => ids.length);
      const order = rows.map((_, i) => i).sort((a, b) => (lengths[a] as number) - (lengths[b] as number) || a - b);
      let maxDiff = 0;
      let tokens = 0;
      const flipped: string[] = [];
      for (let start = 0; start < order.length; start += DEV_BATCH_SIZE) {
        const sentences = order
          .slice(start, start + DEV_BATCH_SIZE)
          .map((i) => (rows[i] as { sentence: string }).sentence);
        const batch = await tokenizer.encodeBatch(sentences);
        tokens += batch.batchSize * batch.sequenceLength;
        const tfjs = runTfjs(runner, batch);
        const ort = (await onnx.run(batch)).data;
        maxDiff = Math.max(maxDiff, maxAbsDiff(tfjs, ort));
        const tfjsLabels = argmaxRows(tfjs, 2);
        argmaxRows(ort, 2).forEach((label, i) => {
          if (label !== tfjsLabels[i]) {
            flipped.push(sentences[i] as string);
          }
        });
      }
      measured.push(
        `SST-2 dev (${rows.length} sentences, ${tokens} padded tokens, ${Math.round(performance.now() - started)} ms): max |tfjs − onnx| ${maxDiff.toExponential(2)}, ${flipped.length} label differences`,
      );
      expect(maxDiff).toBeLessThan(TOLERANCE);
      expect(flipped).toEqual([]);
    },
    300_000,
  );

  it('should find the committed saved_model.pb identical to a fresh build (regenerate with `npm run model:export`)', () => {
    // Committed with the bundled model (TF Serving and the compose stack serve it): missing is a failure, not a skip.
    if (!existsSync(COMMITTED_SAVED_MODEL)) {
      throw new Error(
        `${COMMITTED_SAVED_MODEL} is missing: it is committed with the bundled model (TF Serving and the compose ` +
          'stack serve it). Regenerate it with `npm run model:export` and commit it.',
      );
    }
    const committed = readFileSync(COMMITTED_SAVED_MODEL);
    if (!committed.equals(Buffer.from(bytes))) {
      throw new Error(
        `${COMMITTED_SAVED_MODEL} is stale: it differs from the SavedModel generated from config.json + model.safetensors ` +
          `(${committed.byteLength} vs ${bytes.byteLength} bytes). Regenerate it with \`npm run model:export\` and commit it.`,
      );
    }
  });
});
