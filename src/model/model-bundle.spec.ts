import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelBundleError, listVersions, loadModelBundle, parseModelConfig } from './model-bundle.js';

describe('model bundle', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'bundle-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function version(v: string, config: object, tokenizerConfig?: object): string {
    const dir = join(root, v);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    writeFileSync(join(dir, 'tokenizer.json'), '{}');
    if (tokenizerConfig) {
      writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
    }
    return dir;
  }

  const bert = { model_type: 'bert', max_position_embeddings: 128, id2label: { '0': 'NEGATIVE', '1': 'POSITIVE' } };

  it('should read labels in id order and the maximum length', () => {
    const dir = version('1', { ...bert, id2label: { '1': 'POSITIVE', '0': 'NEGATIVE' } });
    const config = parseModelConfig(join(dir, 'config.json'));
    expect(config.labels).toEqual(['NEGATIVE', 'POSITIVE']);
    expect(config.maxLength).toBe(128);
  });

  it('should default to LABEL_i when config.json has no id2label', () => {
    const dir = version('1', { model_type: 'bert', max_position_embeddings: 512 });
    expect(parseModelConfig(join(dir, 'config.json')).labels).toEqual(['LABEL_0', 'LABEL_1']);
  });

  it('should take a smaller model_max_length from tokenizer_config.json, and ignore the 1e30 placeholder', () => {
    const small = version('1', { ...bert, max_position_embeddings: 512 }, { model_max_length: 256 });
    expect(parseModelConfig(join(small, 'config.json'), join(small, 'tokenizer_config.json')).maxLength).toBe(256);
    const huge = version('2', bert, { model_max_length: 1e30 });
    expect(parseModelConfig(join(huge, 'config.json'), join(huge, 'tokenizer_config.json')).maxLength).toBe(128);
  });

  it('should name the file and the field that is wrong', () => {
    const dir = version('1', { ...bert, model_type: 'gpt2', id2label: { '0': 'A', '2': 'C' } });
    expect(() => parseModelConfig(join(dir, 'config.json'))).toThrow(
      /config\.json: model_type: .*config\.json: id2label/s,
    );
  });

  it('should refuse problem types whose scores are not a softmax over labels', () => {
    const dir = version('1', { ...bert, problem_type: 'multi_label_classification' });
    expect(() => parseModelConfig(join(dir, 'config.json'))).toThrow(
      /problem_type: "multi_label_classification" is not served/,
    );
  });

  it('should list numeric versions in numeric order and pick the highest by default', () => {
    version('2', bert);
    version('10', bert);
    mkdirSync(join(root, 'notes'));
    expect(listVersions(root)).toEqual(['2', '10']);
    expect(loadModelBundle(root).version).toBe('10');
    expect(loadModelBundle(root, '2').version).toBe('2');
  });

  it('should refuse a missing version, folder or file with the path in the message', () => {
    version('1', bert);
    expect(() => loadModelBundle(root, '7')).toThrow(/version 7 not found \(available: 1\)/);
    expect(() => loadModelBundle(join(root, 'nope'))).toThrow(ModelBundleError);
    rmSync(join(root, '1', 'tokenizer.json'));
    expect(() => loadModelBundle(root)).toThrow(/tokenizer\.json: missing/);
  });
});
