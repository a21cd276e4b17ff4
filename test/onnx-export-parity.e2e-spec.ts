/**
 * The bundled model.onnx is the TypeScript exporter's (the one ONNX producer: `npm run model:export-onnx`, also what
 * `npm run model:import` runs): built again from models/sentiment_analysis/1 (config.json + model.safetensors) into a
 * temporary folder it is byte-identical to the committed file, computes PyTorch's golden logits (tools/train/golden.py)
 * unpadded and in one padded batch, and on SST-2 dev, when it is available, scores exactly what PyTorch scored at the
 * end of training (training-report.json).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT, hasSst2, readSst2, sst2Path } from '../tools/common/sst2.js';
import { buildOnnxModel, writeOnnxModelFile } from '../tools/export/onnx/onnx.writer.js';
import { OnnxSession } from '../src/inference/onnx/onnx-session.js';
import { BertTokenizer } from '../src/model/bert.tokenizer.js';
import { loadModelBundle, type ModelBundle } from '../src/model/model-bundle.js';
import { argmaxRows, batchOf, maxAbsDiff } from './support/batches.js';
import { TORCH_GOLDEN } from './support/golden.js';

const MODEL_DIR = resolve(REPO_ROOT, 'models/sentiment_analysis');
const VERSION = '1';
/** Largest |logit difference| accepted between exports (Hugging Face Optimum's ATOL_FOR_VALIDATION). */
const TOLERANCE = 1e-4;
const DEV_BATCH_SIZE = 32;
const SESSION_OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1 };

const golden = TORCH_GOLDEN;

describe('ONNX export: the bundled model.onnx, generated from model.safetensors, against PyTorch', () => {
  let bundle: ModelBundle;
  let dir: string;
  let ours: OnnxSession;
  let bytes: Uint8Array;
  let tokenizer: BertTokenizer;
  let labels: number;
  const measured: string[] = [];

  beforeAll(async () => {
    bundle = loadModelBundle(MODEL_DIR, VERSION);
    labels = bundle.config.labels.length;
    dir = mkdtempSync(join(tmpdir(), 'onnx-export-'));
    const started = performance.now();
    bytes = buildOnnxModel(bundle.dir);
    const path = writeOnnxModelFile(join(dir, 'model.onnx'), bytes);
    measured.push(`export: ${bytes.byteLength} bytes in ${Math.round(performance.now() - started)} ms`);
    ours = await OnnxSession.create(path, SESSION_OPTIONS);
    tokenizer = BertTokenizer.fromFile(bundle.files.tokenizer, bundle.config.maxLength);
  });
  afterAll(async () => {
    await ours?.release();
    rmSync(dir, { recursive: true, force: true });
    if (measured.length > 0) {
      console.log(`ONNX export parity (tolerance ${TOLERANCE}):\n  ${measured.join('\n  ')}`);
    }
  });

  it('should be, byte for byte, the committed model.onnx (regenerate it with `npm run model:export-onnx`)', () => {
    const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
    expect(sha(bytes)).toBe(sha(readFileSync(bundle.files.onnx)));
  });

  it('should load in ONNX Runtime with the interface of a Hugging Face export', () => {
    expect(ours.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(ours.numLabels).toBe(labels);
  });

  it('should match the PyTorch golden logits, one sentence at a time', async () => {
    let vsTorch = 0;
    for (const testCase of golden.cases) {
      const logits = (await ours.run(batchOf([testCase.input_ids], tokenizer.padId))).data;
      vsTorch = Math.max(vsTorch, maxAbsDiff(logits, testCase.logits));
      expect(argmaxRows(logits, labels)).toEqual(argmaxRows(testCase.logits, labels));
    }
    measured.push(`golden (${golden.cases.length}, unpadded): max |ours − torch| ${vsTorch.toExponential(2)}`);
    expect(vsTorch).toBeLessThan(TOLERANCE);
  });

  it('should give the same logits when the golden set runs as one padded batch', async () => {
    const batch = batchOf(
      golden.cases.map((testCase) => testCase.input_ids),
      tokenizer.padId,
    );
    // The longest golden sentence sets the padding, so most rows carry padded positions.
    expect(batch.lengths.filter((length) => length < batch.sequenceLength).length).toBeGreaterThan(0);
    const batched = (await ours.run(batch)).data;
    const unpadded: number[] = [];
    for (const testCase of golden.cases) {
      unpadded.push(...(await ours.run(batchOf([testCase.input_ids], tokenizer.padId))).data);
    }
    const vsUnpadded = maxAbsDiff(batched, unpadded);
    const vsTorch = maxAbsDiff(
      batched,
      golden.cases.flatMap((testCase) => testCase.logits),
    );
    measured.push(
      `golden (one padded batch of ${batch.batchSize} × ${batch.sequenceLength}): max |padded − unpadded| ${vsUnpadded.toExponential(2)}, |ours − torch| ${vsTorch.toExponential(2)}`,
    );
    expect(vsUnpadded).toBeLessThan(TOLERANCE);
    expect(vsTorch).toBeLessThan(TOLERANCE);
  });

  const withDev = hasSst2('dev') ? it : it.skip;
  if (!hasSst2('dev')) {
    console.log(`SST-2 dev not found at ${sst2Path('dev')} (set SST2_DIR): skipping the dev-set parity test.`);
  }

  withDev(
    `should score on SST-2 dev, in padded batches of ${DEV_BATCH_SIZE}, exactly what PyTorch scored after training`,
    async () => {
      const report = JSON.parse(readFileSync(join(bundle.dir, 'training-report.json'), 'utf8')) as {
        dev: { correct: number; total: number };
      };
      const rows = readSst2('dev');
      const started = performance.now();
      let tokens = 0;
      let correct = 0;
      // File order, so each batch is padded to its longest sentence, as the service batches requests.
      for (let start = 0; start < rows.length; start += DEV_BATCH_SIZE) {
        const chunk = rows.slice(start, start + DEV_BATCH_SIZE);
        const batch = await tokenizer.encodeBatch(chunk.map((row) => row.sentence));
        tokens += batch.batchSize * batch.sequenceLength;
        argmaxRows((await ours.run(batch)).data, labels).forEach((label, i) => {
          correct += label === chunk[i]?.label ? 1 : 0;
        });
      }
      measured.push(
        `SST-2 dev (${rows.length} sentences, ${tokens} padded tokens, ${Math.round(performance.now() - started)} ms): ${correct} correct, PyTorch after training ${report.dev.correct}`,
      );
      expect(rows.length).toBe(report.dev.total);
      expect(correct).toBe(report.dev.correct);
    },
    120_000,
  );
});
