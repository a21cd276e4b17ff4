import { existsSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { OnnxSession } from '../../../src/inference/onnx/onnx-session.js';
import { BertTokenizer } from '../../../src/model/bert.tokenizer.js';
import { externalDataPath, onnxFileBytes } from '../../../src/model/model-bundle.js';
import { REPO_ROOT } from '../../common/sst2.js';
import { EXTERNAL_DATA_MIN_BYTES, readOnnxModel, splitExternalData, writeOnnxFiles } from './onnx.external-data.js';
import { decodeModel } from './onnx-proto.js';
import { buildOnnxModel } from './onnx.writer.js';

const BUNDLED = resolve(REPO_ROOT, 'models/sentiment_analysis/1');
const SENTENCES = ['this is a bad example', 'a warm, funny and moving film', 'it never quite works'];

async function logits(path: string): Promise<number[]> {
  const session = await OnnxSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const tokenizer = BertTokenizer.fromFile(join(BUNDLED, 'tokenizer.json'), 128);
    return [...(await session.run(await tokenizer.encodeBatch(SENTENCES))).data];
  } finally {
    await session.release();
  }
}

describe('ONNX external data', () => {
  // The bundled model as the project's exporter writes it (the committed file comes from PyTorch's exporter).
  const bundled = Buffer.from(buildOnnxModel(BUNDLED));
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'onnx-external-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('should keep a model under the threshold in one file', () => {
    expect(bundled.byteLength).toBeLessThan(EXTERNAL_DATA_MIN_BYTES);
    const { model, data } = splitExternalData(bundled, 'model.onnx_data');
    expect(data).toBeNull();
    expect(Buffer.from(model).equals(bundled)).toBe(true);
  });

  it('should move every large initializer to page-aligned ranges of the data file, and read back to the same bytes', () => {
    const { model, data } = splitExternalData(bundled, 'model.onnx_data', 0);
    expect(data).not.toBeNull();
    const initializers = decodeModel(model).graph?.initializer ?? [];
    const external = initializers.filter((t) => t.dataLocation === 'EXTERNAL');
    // The word embeddings, attention and feed-forward weights: most of the file.
    expect(external.length).toBeGreaterThan(10);
    expect((data as Uint8Array).byteLength).toBeGreaterThan(0.9 * bundled.byteLength);
    for (const tensor of external) {
      const entries = Object.fromEntries((tensor.externalData ?? []).map((e) => [e.key, e.value]));
      expect(entries.location).toBe('model.onnx_data');
      expect(Number(entries.offset) % 4096).toBe(0);
      expect(tensor.rawData).toBeUndefined();
    }
    for (const tensor of initializers.filter((t) => t.dataLocation !== 'EXTERNAL')) {
      expect(tensor.rawData?.byteLength ?? 0).toBeLessThan(1024);
    }

    const target = join(dir, 'model.onnx');
    expect(writeOnnxFiles(target, bundled, 0)).toEqual([target, externalDataPath(target)]);
    expect(readdirSync(dir).sort()).toEqual(['model.onnx', 'model.onnx_data']);
    expect(Buffer.from(readOnnxModel(target)).equals(bundled)).toBe(true);
    expect(onnxFileBytes(target)).toBe(model.byteLength + (data as Uint8Array).byteLength);
  });

  it('should give ONNX Runtime the same model: the same logits as the one-file model', async () => {
    const inline = join(dir, 'inline', 'model.onnx');
    const split = join(dir, 'split', 'model.onnx');
    writeOnnxFiles(inline, bundled);
    writeOnnxFiles(split, bundled, 0);
    expect(existsSync(externalDataPath(split))).toBe(true);
    const expected = await logits(inline);
    expect(await logits(split)).toEqual(expected);
    // The weights really are read from the data file: without it, ONNX Runtime cannot load the model.
    truncateSync(externalDataPath(split), 4096);
    await expect(logits(split)).rejects.toThrow();
  });

  it('should remove the data file of an earlier, larger model when the new one fits in one file', () => {
    const target = join(dir, 'model.onnx');
    writeOnnxFiles(target, bundled, 0);
    expect(writeOnnxFiles(target, bundled)).toEqual([target]);
    expect(readdirSync(dir)).toEqual(['model.onnx']);
  });

  it('should say which file is missing or too short', () => {
    const target = join(dir, 'model.onnx');
    writeOnnxFiles(target, bundled, 0);
    truncateSync(externalDataPath(target), 4096);
    expect(() => readOnnxModel(target)).toThrow(/lie outside .*model\.onnx_data/);
    rmSync(externalDataPath(target));
    expect(() => readOnnxModel(target)).toThrow(`its weights file ${externalDataPath(target)} is missing`);
    writeFileSync(externalDataPath(target), '');
    expect(() => readOnnxModel(target)).toThrow(/lie outside/);
  });
});
