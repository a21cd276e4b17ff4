/**
 * `npm run model:import`: a Hugging Face checkpoint folder becomes a version folder the service and TensorFlow
 * Serving read.
 *
 * - The bundled model, re-imported from its own files (safetensors or a tf_model.h5 written from them; tokenizer.json
 *   or vocab.txt + tokenizer_config.json), gives back byte-identical model.safetensors and saved_model.pb, the
 *   model.onnx the TypeScript exporter builds from the bundled folder, and an equivalent tokenizer.json.
 * - The checkpoint fixtures (test/fixtures/checkpoints/, written by tools/fixtures/make_checkpoints.py as
 *   transformers would) import to models whose ONNX Runtime and SavedModel (run in tfjs) logits and token ids match
 *   their golden.json.
 * - Versions: next to the existing ones, never over one without --force, and nothing left behind by a failure.
 * - A Hugging Face ONNX export dropped into an imported folder is served by v1 as it is.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { OnnxSession } from '../src/inference/onnx/onnx-session.js';
import { BertTokenizer, parseModelConfig, softmax } from '../src/model/index.js';
import { ARCHITECTURES } from '../tools/export/architectures/index.js';
import { buildOnnxModel } from '../tools/export/onnx/onnx.writer.js';
import { quantizeOnnxBytes } from '../tools/export/onnx/onnx.quantize.js';
import { SafetensorsFile } from '../tools/export/safetensors.js';
import { formatSummary, importCheckpoint, type ImportResult } from '../tools/import/import-checkpoint.js';
import { writeKerasH5 } from '../tools/import/keras-h5.test-support.js';
import { DEFAULT_MODEL_DIR, REPO_ROOT, startApp } from './support/app.js';
import { argmaxRows, batchOf, maxAbsDiff } from './support/batches.js';
import { type FlatTensor, SavedModelRunner } from './support/tfjs-savedmodel.js';
import { TORCH_GOLDEN } from './support/golden.js';

const DEFAULT_DIR = join(DEFAULT_MODEL_DIR, '1');
const FIXTURES_DIR = resolve(REPO_ROOT, 'test/fixtures/checkpoints');
const CHECKPOINT_FOLDERS = ['bert-h5', 'bert-safetensors', 'distilbert-h5', 'distilbert-safetensors'];
/** Largest |logit difference| accepted against a golden (Hugging Face Optimum's ATOL_FOR_VALIDATION). */
const TOLERANCE = 1e-4;
const SESSION_OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1 };

const read = (dir: string, file: string) => readFileSync(join(dir, file));

/** JSON with object keys sorted: tokenizer.json files compared for meaning, not key order. */
function canonicalJson(path: string): string {
  return JSON.stringify(JSON.parse(readFileSync(path, 'utf8')), (_, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

describe('model:import', () => {
  let root: string;
  /** A folder of some of the bundled model's files (a checkpoint to import). */
  function checkpointOf(name: string, files: readonly string[]): string {
    const dir = join(root, 'checkpoints', name);
    mkdirSync(dir, { recursive: true });
    files.forEach((file) => copyFileSync(join(DEFAULT_DIR, file), join(dir, file)));
    return dir;
  }

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'model-import-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  describe('the bundled model re-imported from its own files', () => {
    let onnxFromBundle: Buffer;
    beforeAll(() => {
      onnxFromBundle = Buffer.from(buildOnnxModel(DEFAULT_DIR));
    });

    /** Every generated file equals its bundled counterpart; model.onnx equals the TypeScript export of the bundle. */
    function expectSameModel(result: ImportResult): void {
      expect(read(result.dir, 'model.safetensors').equals(read(DEFAULT_DIR, 'model.safetensors'))).toBe(true);
      expect(read(result.dir, 'model.onnx').equals(onnxFromBundle)).toBe(true);
      expect(read(result.dir, 'saved_model.pb').equals(read(DEFAULT_DIR, 'saved_model.pb'))).toBe(true);
      expect(canonicalJson(join(result.dir, 'tokenizer.json'))).toBe(
        canonicalJson(join(DEFAULT_DIR, 'tokenizer.json')),
      );
      for (const file of ['config.json', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']) {
        expect(read(result.dir, file).toString()).toBe(read(DEFAULT_DIR, file).toString());
      }
      expect(readdirSync(result.dir).sort()).toEqual(
        [
          'config.json',
          'model.onnx',
          'model.safetensors',
          'saved_model.pb',
          'special_tokens_map.json',
          'tokenizer.json',
          'tokenizer_config.json',
          'vocab.txt',
        ].sort(),
      );
      expect(result.labels).toEqual(['NEGATIVE', 'POSITIVE']);
      expect(result.inputs).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    }

    it('should give back the same files from model.safetensors + config.json + tokenizer.json', async () => {
      const from = checkpointOf('safetensors', ['config.json', 'model.safetensors', 'tokenizer.json']);
      const result = await importCheckpoint({ from, modelsDir: join(root, 'same-safetensors') });
      expect(result.dir).toBe(join(root, 'same-safetensors', 'sentiment_analysis', '1'));
      expect(result.tokenizer.origin).toBe('tokenizer.json (copied)');
      expectSameModel(result);
    });

    it('should build an equivalent tokenizer.json from vocab.txt + tokenizer_config.json', async () => {
      const from = checkpointOf('vocab', ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json']);
      const result = await importCheckpoint({ from, modelsDir: join(root, 'same-vocab') });
      expect(result.tokenizer.origin).toMatch(/^built from vocab\.txt \+ tokenizer_config\.json/);
      expectSameModel(result);
    });

    it('should give back the same files from a tf_model.h5 of the same weights (Keras names, [in, out] kernels)', async () => {
      const from = checkpointOf('h5', ['config.json', 'tokenizer.json']);
      const weights = SafetensorsFile.open(join(DEFAULT_DIR, 'model.safetensors'));
      await writeKerasH5(
        join(from, 'tf_model.h5'),
        Object.fromEntries(
          [...weights.tensors.values()].map((t) => [
            t.name,
            { shape: t.shape, data: weights.float32(t.name, t.shape) },
          ]),
        ),
      );
      const result = await importCheckpoint({ from, modelsDir: join(root, 'same-h5') });
      expect(result.weights.format).toBe('Keras HDF5');
      // 2 layers × 6 Dense kernels, the pooler and the classifier
      expect(result.weights.transposed).toBe(14);
      expectSameModel(result);
    });
  });

  describe('versions', () => {
    let from: string;
    let modelsDir: string;
    let first: ImportResult;
    const modelDir = () => join(modelsDir, 'sentiment_analysis');
    beforeAll(async () => {
      from = checkpointOf('versions', ['config.json', 'model.safetensors', 'tokenizer.json']);
      modelsDir = join(root, 'versions');
      first = await importCheckpoint({ from, modelsDir });
    });

    it('should add version 2 next to version 1, keeping both', async () => {
      const onnx = read(first.dir, 'model.onnx');
      const second = await importCheckpoint({ from, modelsDir });
      expect([first.version, second.version]).toEqual(['1', '2']);
      expect(readdirSync(modelDir()).sort()).toEqual(['1', '2']);
      expect(read(first.dir, 'model.onnx').equals(onnx)).toBe(true);
      expect(readdirSync(first.dir)).toHaveLength(8);
    });

    it('should refuse to overwrite an existing version without --force, and replace it with it', async () => {
      const marker = join(first.dir, 'marker');
      writeFileSync(marker, 'left by hand');
      const before = readdirSync(modelDir()).sort();
      await expect(importCheckpoint({ from, modelsDir, version: '1' })).rejects.toThrow(
        `${first.dir} already exists: pass --force to replace it`,
      );
      expect(existsSync(marker)).toBe(true);
      const replaced = await importCheckpoint({ from, modelsDir, version: '1', force: true });
      expect(replaced.replaced).toBe(true);
      expect(existsSync(marker)).toBe(false);
      expect(readdirSync(first.dir)).toHaveLength(8);
      expect(readdirSync(modelDir()).sort()).toEqual(before);
    });

    it('should also write model.int8.onnx with --quantize: what model:quantize gives, checked to answer', async () => {
      const result = await importCheckpoint({ from, modelsDir, name: 'quantized', quantize: true });
      expect(readdirSync(result.dir)).toHaveLength(9);
      const int8 = read(result.dir, 'model.int8.onnx');
      expect(int8.equals(Buffer.from(quantizeOnnxBytes(read(result.dir, 'model.onnx')).bytes))).toBe(true);
      expect(result.files.at(-1)).toEqual({ name: 'model.int8.onnx', bytes: int8.byteLength });
      const { logits, int8Logits } = result.check;
      expect(int8Logits).toHaveLength(logits.length);
      int8Logits?.forEach((value, i) => expect(Math.abs(value - logits[i]!)).toBeLessThan(0.1));
      expect(formatSummary(result)).toMatch(/, int8 \[-?\d/);
    }, 60_000);

    it('should take --name and --version', async () => {
      const result = await importCheckpoint({ from, modelsDir, name: 'reviews', version: '7' });
      expect(result.dir).toBe(join(modelsDir, 'reviews', '7'));
    });

    it('should leave nothing behind when the weights do not fit config.json, naming the file and the tensor', async () => {
      const bad = checkpointOf('three-labels', ['model.safetensors', 'tokenizer.json']);
      const config = JSON.parse(read(DEFAULT_DIR, 'config.json').toString()) as Record<string, unknown>;
      writeFileSync(join(bad, 'config.json'), JSON.stringify({ ...config, id2label: { 0: 'a', 1: 'b', 2: 'c' } }));
      const fresh = join(root, 'failed-fresh');
      await expect(importCheckpoint({ from: bad, modelsDir: fresh })).rejects.toThrow(
        `${join(bad, 'model.safetensors')}: tensor "classifier.weight" has shape [2, 128], expected [3, 128]`,
      );
      expect(existsSync(fresh)).toBe(false);
    });

    it('should leave the model folder as it was when a late step fails (tokenizer after the weights were written)', async () => {
      const bad = checkpointOf('bad-tokenizer', ['config.json', 'model.safetensors', 'vocab.txt']);
      writeFileSync(join(bad, 'tokenizer_config.json'), JSON.stringify({ unk_token: '<unk>' }));
      const before = readdirSync(modelDir()).sort();
      await expect(importCheckpoint({ from: bad, modelsDir })).rejects.toThrow(
        `${join(bad, 'tokenizer_config.json')}: unk_token "<unk>" is not in the vocabulary`,
      );
      await expect(importCheckpoint({ from: bad, modelsDir, version: '1', force: true })).rejects.toThrow('<unk>');
      expect(readdirSync(modelDir()).sort()).toEqual(before);
      expect(readdirSync(join(modelDir(), '1'))).toHaveLength(8);
    });

    it('should name what is missing: the folder, config.json, the weights', async () => {
      const modelsDir = join(root, 'missing');
      const nowhere = join(root, 'nowhere');
      await expect(importCheckpoint({ from: nowhere, modelsDir })).rejects.toThrow(`${nowhere}: not a folder`);
      const noConfig = checkpointOf('no-config', ['model.safetensors', 'tokenizer.json']);
      await expect(importCheckpoint({ from: noConfig, modelsDir })).rejects.toThrow(
        `${join(noConfig, 'config.json')}: missing`,
      );
      const noWeights = checkpointOf('no-weights', ['config.json', 'tokenizer.json']);
      await expect(importCheckpoint({ from: noWeights, modelsDir })).rejects.toThrow(
        `${noWeights}: no model.safetensors or tf_model.h5`,
      );
      expect(existsSync(modelsDir)).toBe(false);
    });

    it('should run as npm run model:import: a summary on success, exit code 1 and the reason on failure', async () => {
      const run = promisify(execFile);
      const tsx = resolve(REPO_ROOT, 'node_modules/.bin/tsx');
      const script = resolve(REPO_ROOT, 'tools/import/import-model.ts');
      const cli = join(root, 'cli');
      const { stdout } = await run(tsx, [script, '--from', from, '--models-dir', cli], { cwd: REPO_ROOT });
      expect(stdout).toContain(
        `imported ${from} as sentiment_analysis version 1: ${join(cli, 'sentiment_analysis', '1')}`,
      );
      expect(stdout).toMatch(/labels: 0=NEGATIVE, 1=POSITIVE/);
      expect(stdout).toMatch(/inputs: input_ids, attention_mask, token_type_ids/);
      expect(stdout).toMatch(/model\.safetensors\s+7\.3 MiB/);
      const failure = run(tsx, [script, '--from', from, '--models-dir', cli, '--version', '1'], { cwd: REPO_ROOT });
      await expect(failure).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('model:import failed: ') as unknown,
      });
    }, 60_000);
  });

  describe('checkpoint fixtures against their goldens', () => {
    interface GoldenCase {
      readonly text: string;
      readonly input_ids: number[];
      readonly truncated: boolean;
      readonly logits: number[];
      readonly label: string;
    }
    interface Golden {
      readonly model_type: string;
      readonly id2label: Record<string, string>;
      readonly cases: GoldenCase[];
    }
    const present = CHECKPOINT_FOLDERS.filter((folder) => existsSync(join(FIXTURES_DIR, folder, 'golden.json')));
    const unsupported = (folder: string) =>
      !ARCHITECTURES.has((JSON.parse(read(join(FIXTURES_DIR, folder), 'golden.json').toString()) as Golden).model_type);
    const runnable = present.filter((folder) => !unsupported(folder));
    const measured: string[] = [];

    // Said while the tests are collected, so a run that skips them all still tells why.
    const missing = CHECKPOINT_FOLDERS.filter((folder) => !present.includes(folder));
    if (missing.length > 0) {
      console.warn(`model:import fixtures skipped: ${missing.join(', ')}: no golden.json in ${FIXTURES_DIR}`);
    }
    const notExported = present.filter(unsupported);
    if (notExported.length > 0) {
      console.warn(`model:import fixtures skipped: ${notExported.join(', ')}: model_type has no exporter yet`);
    }
    afterAll(() => {
      if (measured.length > 0) {
        console.log(`model:import fixtures (tolerance ${TOLERANCE}):\n  ${measured.join('\n  ')}`);
      }
    });

    (runnable.length > 0 ? it.each(runnable) : it.skip.each(['(none)']))(
      'should import %s with the golden labels, token ids and logits (ONNX Runtime and SavedModel)',
      async (folder) => {
        const from = join(FIXTURES_DIR, folder);
        const golden = JSON.parse(read(from, 'golden.json').toString()) as Golden;
        const result = await importCheckpoint({ from, modelsDir: join(root, 'fixtures'), name: folder });
        const labels = Object.keys(golden.id2label)
          .sort((a, b) => Number(a) - Number(b))
          .map((key) => golden.id2label[key]);
        expect(result.labels).toEqual(labels);

        const { maxLength } = parseModelConfig(
          join(result.dir, 'config.json'),
          join(result.dir, 'tokenizer_config.json'),
        );
        const tokenizer = BertTokenizer.fromFile(join(result.dir, 'tokenizer.json'), maxLength);
        const texts = golden.cases.map((c) => c.text);
        expect(await tokenizer.encodeIds(texts)).toEqual(golden.cases.map((c) => c.input_ids));
        expect((await tokenizer.encodeBatch(texts)).truncated).toEqual(golden.cases.map((c) => c.truncated));

        const columns = labels.length;
        const expected = golden.cases.flatMap((c) => c.logits);
        const padded = batchOf(
          golden.cases.map((c) => c.input_ids),
          tokenizer.padId,
        );
        const session = await OnnxSession.create(join(result.dir, 'model.onnx'), SESSION_OPTIONS);
        const runner = SavedModelRunner.fromBytes(read(result.dir, 'saved_model.pb'));
        try {
          expect(session.inputNames).toEqual(result.inputs);
          const onnxSingle: number[] = [];
          const tfjsSingle: number[] = [];
          const runTfjs = (batch: typeof padded): Float32Array => {
            const shape = [batch.batchSize, batch.sequenceLength];
            const all: Record<string, FlatTensor> = {
              input_ids: { shape, data: batch.inputIds },
              attention_mask: { shape, data: batch.attentionMask },
              token_type_ids: { shape, data: batch.tokenTypeIds },
            };
            const feeds = Object.fromEntries(runner.signature.inputs.map((input) => [input.alias, all[input.alias]!]));
            return runner.predictFlat(feeds).logits!.data as Float32Array;
          };
          for (const c of golden.cases) {
            const batch = batchOf([c.input_ids], tokenizer.padId);
            onnxSingle.push(...(await session.run(batch)).data);
            tfjsSingle.push(...runTfjs(batch));
          }
          const diffs = {
            onnx: maxAbsDiff(onnxSingle, expected),
            onnxPadded: maxAbsDiff((await session.run(padded)).data, expected),
            savedModel: maxAbsDiff(tfjsSingle, expected),
            savedModelPadded: maxAbsDiff(runTfjs(padded), expected),
          };
          measured.push(
            `${folder} (${golden.cases.length} cases, ${result.inputs.length} inputs): max |logit − golden| ` +
              Object.entries(diffs)
                .map(([name, diff]) => `${name} ${diff.toExponential(2)}`)
                .join(', '),
          );
          Object.values(diffs).forEach((diff) => expect(diff).toBeLessThan(TOLERANCE));
          expect(argmaxRows(onnxSingle, columns).map((i) => labels[i])).toEqual(golden.cases.map((c) => c.label));
        } finally {
          runner.dispose();
          await session.release();
        }
      },
      60_000,
    );

    const pairs = ['bert', 'distilbert'].filter((name) =>
      [`${name}-h5`, `${name}-safetensors`].every((folder) => runnable.includes(folder)),
    );
    (pairs.length > 0 ? it.each(pairs) : it.skip.each(['(none)']))(
      'should write the same %s model.safetensors from the tf_model.h5 and the model.safetensors of one network',
      async (name) => {
        const [h5, safetensors] = await Promise.all(
          ['h5', 'safetensors'].map((kind) =>
            importCheckpoint({
              from: join(FIXTURES_DIR, `${name}-${kind}`),
              modelsDir: join(root, 'pairs', kind),
              name,
            }),
          ),
        );
        expect(h5!.weights.transposed).toBeGreaterThan(0);
        expect(read(h5!.dir, 'model.safetensors').equals(read(safetensors!.dir, 'model.safetensors'))).toBe(true);
      },
      60_000,
    );
  });

  describe('a Hugging Face ONNX export dropped into an imported folder, served by v1', () => {
    let app: NestFastifyApplication;
    let modelDir: string;
    const golden = TORCH_GOLDEN;

    beforeAll(async () => {
      const from = checkpointOf('served', ['config.json', 'model.safetensors', 'tokenizer.json']);
      const result = await importCheckpoint({ from, modelsDir: join(root, 'served'), name: 'reviews' });
      // The committed model.onnx is PyTorch's export (torch.onnx, Optimum's interface), not the TypeScript one.
      copyFileSync(join(DEFAULT_DIR, 'model.onnx'), join(result.dir, 'model.onnx'));
      modelDir = join(root, 'served', 'reviews');
      app = await startApp({ MODEL_DIR: modelDir, ONNX_WORKERS: '1' });
    });
    afterAll(async () => {
      await app?.close();
    });

    it('should describe the imported model', async () => {
      const res = await request(app.getHttpServer()).get('/v1/inference/sentiment_analysis').expect(200);
      expect(res.body).toMatchObject({
        name: 'reviews',
        version: '1',
        backend: 'onnxruntime',
        labels: ['NEGATIVE', 'POSITIVE'],
        inputs: ['input_ids', 'attention_mask', 'token_type_ids'],
        maxTokens: 128,
      });
    });

    it('should answer with PyTorch’s labels and confidences', async () => {
      const cases = golden.cases.slice(0, 16);
      const res = await request(app.getHttpServer())
        .post('/v1/inference/sentiment_analysis/batch')
        .send({ sentences: cases.map((c) => c.sentence) })
        .expect(200);
      expect(res.headers['x-model-version']).toBe('1');
      cases.forEach((c, i) => {
        const probabilities = Array.from(softmax(c.logits));
        const best = probabilities.indexOf(Math.max(...probabilities));
        expect(res.body.predictions[i].sentiment).toBe(best === 0 ? 'NEGATIVE' : 'POSITIVE');
        expect(Math.abs(res.body.predictions[i].confidence - (probabilities[best] as number))).toBeLessThan(TOLERANCE);
      });
    });
  });
});
