import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../common/sst2.js';
import { readCheckpointConfig } from './checkpoint-config.js';

const DEFAULT_CONFIG = JSON.parse(
  readFileSync(resolve(REPO_ROOT, 'models/sentiment_analysis/1/config.json'), 'utf8'),
) as Record<string, unknown>;

describe('config.json of a checkpoint to import', () => {
  let dir: string;
  let n = 0;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'checkpoint-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes the default config.json with `changes` (undefined deletes a field) and returns its path. */
  function configWith(changes: Record<string, unknown>): string {
    const path = join(dir, `config-${n++}.json`);
    writeFileSync(path, JSON.stringify({ ...DEFAULT_CONFIG, ...changes }));
    return path;
  }

  it('should give the labels in logit order, the architecture and the sizes', () => {
    const config = readCheckpointConfig(configWith({ id2label: { '1': 'pos', '0': 'neg', '2': 'mixed' } }));
    expect(config.labels).toEqual(['neg', 'pos', 'mixed']);
    expect(config.architecture.modelType).toBe('bert');
    expect(config.vocabSize).toBe(DEFAULT_CONFIG.vocab_size);
    expect(config.maxPositions).toBe(DEFAULT_CONFIG.max_position_embeddings);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['no model_type', { model_type: undefined }, 'model_type: missing (supported: bert'],
    ['an unsupported model_type', { model_type: 'roberta' }, 'model_type: "roberta" is not supported (supported: bert'],
    [
      'a model that is not a sequence classifier',
      { architectures: ['BertForMaskedLM'] },
      'architectures: "BertForMaskedLM" is not a sequence-classification model',
    ],
    ['no id2label', { id2label: undefined }, 'id2label: missing; the service answers with these labels'],
    ['id2label with a gap', { id2label: { '0': 'a', '2': 'b' } }, 'id2label'],
    ['a regression head', { problem_type: 'regression' }, 'problem_type: "regression" is not served'],
  ])('should refuse %s, naming the file and the field', (_, changes, message) => {
    const path = configWith(changes);
    expect(() => readCheckpointConfig(path)).toThrow(`${path}: ${message}`);
  });

  it('should name a file that is not JSON', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{"model_type": ');
    expect(() => readCheckpointConfig(path)).toThrow(`${path}: invalid JSON`);
  });
});
