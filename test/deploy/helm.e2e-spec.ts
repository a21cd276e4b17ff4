/**
 * The Helm chart (helm/sentiment-analysis/), checked without a cluster. Always: values.yaml against
 * values.schema.json (and broken copies rejected), versions in step with package.json, the API's configuration
 * accepted by its own validation, the templates lexed as Go templates with every `.Values` path resolved both ways,
 * and the defaults compared with k8s/. Where a `helm` binary is on PATH: `helm lint`, `helm template` validated
 * against the Kubernetes API schemas and compared with k8s/.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse, parseDocument } from 'yaml';
import { envSchema, loadConfig } from '../../src/config/app.config.js';
import { tfServingModelConfig } from '../../tools/release/sync-versions.js';
import {
  containersOf,
  parseManifests,
  readManifests,
  validateManifest,
  type Manifest,
} from '../support/k8s-validation.js';
import { parseModelServerConfig } from '../support/tf-serving/text-proto.js';
import { describeWhere, findOnPath } from '../support/tools.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHART = resolve(ROOT, 'helm/sentiment-analysis');
const CHART_NAME = 'sentiment-analysis';
const HELM_TIMEOUT_MS = 60_000;

type Values = Record<string, unknown>;

const readText = (path: string): string => readFileSync(resolve(CHART, path), 'utf8');
const readValues = (): Values => parse(readText('values.yaml')) as Values;
const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  config: {
    modelVersion: string;
    servedModelVersions: string[];
    modelVersionLabels: Record<string, string>;
    tfServingImage: string;
  };
};
const chartYaml = parse(readText('Chart.yaml')) as Record<string, unknown>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The value at a dotted path, or undefined. */
function valueAt(root: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (isObject(node) ? node[key] : undefined), root);
}

function hasPath(root: unknown, path: string): boolean {
  const keys = path.split('.');
  const parent = valueAt(root, keys.slice(0, -1).join('.'));
  return keys.length === 1 ? isObject(root) && keys[0]! in root : isObject(parent) && keys.at(-1)! in parent;
}

/** Dotted paths of the leaves: scalars, lists and empty maps (a list counts as one value). */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (isObject(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([key, child]) => leafPaths(child, prefix ? `${prefix}.${key}` : key));
  }
  return [prefix];
}

const coveredBy = (path: string, ancestors: Iterable<string>): boolean =>
  [...ancestors].some((a) => path === a || path.startsWith(`${a}.`));

/** The chart's fullname helper: the release name, plus the chart name unless the release name contains it. */
function fullname(release: string): string {
  const name = release.includes(CHART_NAME) ? release : `${release}-${CHART_NAME}`;
  return name.slice(0, 63).replace(/-$/, '');
}

/** The API ConfigMap's data as templates/configmap.yaml renders it (derived variables, then non-empty config.*). */
function renderConfigData(values: Values, release: string): Record<string, string> {
  const model = values.model as { name: string; version: string; basePath: string };
  const tfServing = values.tfServing as { enabled: boolean; service: { restPort: number } };
  const config = values.config as Record<string, string | number | boolean>;
  const data: Record<string, string> = {
    PORT: String(values.containerPort),
    MODEL_DIR: `${model.basePath.replace(/\/$/, '')}/${model.name}`,
    TF_SERVING_MODEL_NAME: model.name,
  };
  if (String(model.version) !== '') {
    data.MODEL_VERSION = String(model.version);
    // v2 serves the same version as v1 unless config pins another version or a label.
    if (!String(config.TF_SERVING_MODEL_VERSION ?? '') && !String(config.TF_SERVING_MODEL_LABEL ?? '')) {
      data.TF_SERVING_MODEL_VERSION = String(model.version);
    }
  }
  const url = config.TF_SERVING_URL
    ? String(config.TF_SERVING_URL)
    : tfServing.enabled
      ? `http://${fullname(release).slice(0, 52).replace(/-$/, '')}-tf-serving:${tfServing.service.restPort}`
      : '';
  if (url) {
    data.TF_SERVING_URL = url;
  }
  for (const [name, value] of Object.entries(config)) {
    if (name !== 'TF_SERVING_URL' && String(value) !== '') {
      data[name] = String(value);
    }
  }
  return data;
}

/** A value as templates/_helpers.tpl's envValue prints it (integers from --set without a decimal point). */
const envValue = (value: unknown): string => String(value);

/** TF Serving's model config as templates/_helpers.tpl renders it from tfServing.versions and tfServing.labels. */
function renderModelConfig(values: Values): string {
  const model = values.model as { name: string };
  const tfServing = values.tfServing as { versions: unknown[]; labels: Record<string, unknown> };
  const labels = Object.fromEntries(Object.entries(tfServing.labels).map(([label, v]) => [label, envValue(v)]));
  return tfServingModelConfig(
    { name: model.name, basePath: `/models/${model.name}` },
    tfServing.versions.map(envValue),
    labels,
  );
}

/** Variables the chart derives from other values; config.* must not set them. */
const DERIVED_ENV = ['PORT', 'MODEL_DIR', 'MODEL_VERSION', 'TF_SERVING_MODEL_NAME'];

// ---------------------------------------------------------------------------------------------------------------
// Go template lexing: enough of text/template's grammar to find unbalanced delimiters and control blocks.

interface TemplateAction {
  readonly file: string;
  readonly line: number;
  /** The action's text without delimiters and trim markers; empty for a comment. */
  readonly body: string;
}

function lexTemplate(source: string, file: string): TemplateAction[] {
  const actions: TemplateAction[] = [];
  const lineAt = (pos: number) => source.slice(0, pos).split('\n').length;
  let pos = 0;
  for (;;) {
    const open = source.indexOf('{{', pos);
    const close = source.indexOf('}}', pos);
    if (close !== -1 && (open === -1 || close < open)) {
      throw new Error(`${file}:${lineAt(close)}: "}}" outside an action`);
    }
    if (open === -1) {
      return actions;
    }
    let start = open + 2;
    if (source[start] === '-') {
      if (!/\s/.test(source[start + 1] ?? '')) {
        throw new Error(`${file}:${lineAt(open)}: "{{-" must be followed by a space`);
      }
      start += 2;
    }
    if (source.startsWith('/*', start)) {
      const end = source.indexOf('*/', start + 2);
      const after = end === -1 ? -1 : end + 2;
      if (after === -1 || !(source.startsWith('}}', after) || source.startsWith(' -}}', after))) {
        throw new Error(`${file}:${lineAt(open)}: a comment must end with "*/}}" or "*/ -}}"`);
      }
      actions.push({ file, line: lineAt(open), body: '' });
      pos = source.indexOf('}}', after) + 2;
      continue;
    }
    let end = start;
    let quote: string | undefined;
    for (; end < source.length; end++) {
      const c = source[end]!;
      if (quote !== undefined) {
        if (c === '\\' && quote !== '`') {
          end++;
        } else if (c === quote) {
          quote = undefined;
        }
      } else if (c === '"' || c === '`' || c === "'") {
        quote = c;
      } else if (source.startsWith('{{', end)) {
        throw new Error(`${file}:${lineAt(open)}: "{{" inside an action`);
      } else if (source.startsWith('}}', end)) {
        break;
      }
    }
    if (end >= source.length) {
      throw new Error(`${file}:${lineAt(open)}: action not closed with "}}"`);
    }
    const body = source.slice(start, end).replace(/\s-$/, '').trim();
    if (body === '') {
      throw new Error(`${file}:${lineAt(open)}: empty action`);
    }
    actions.push({ file, line: lineAt(open), body });
    pos = end + 2;
  }
}

/** Checks if/range/with/define/block … end nesting and else placement; returns the names defined. */
function checkControlFlow(actions: readonly TemplateAction[]): string[] {
  const stack: TemplateAction[] = [];
  const defined: string[] = [];
  for (const action of actions) {
    const keyword = /^(if|else|end|range|with|define|block)\b/.exec(action.body)?.[1];
    const where = `${action.file}:${action.line}`;
    if (keyword === 'define' || keyword === 'block') {
      if (keyword === 'define' && stack.length > 0) {
        throw new Error(`${where}: define inside another block`);
      }
      const name = /^(?:define|block)\s+"([^"]+)"/.exec(action.body)?.[1];
      if (name === undefined) {
        throw new Error(`${where}: ${keyword} without a quoted name`);
      }
      defined.push(name);
      stack.push(action);
    } else if (keyword === 'if' || keyword === 'range' || keyword === 'with') {
      stack.push(action);
    } else if (keyword === 'else') {
      const top = stack.at(-1);
      if (top === undefined || !/^(if|range|with)\b/.test(top.body)) {
        throw new Error(`${where}: else outside if/range/with`);
      }
    } else if (keyword === 'end') {
      if (stack.pop() === undefined) {
        throw new Error(`${where}: end without an opening block`);
      }
    }
  }
  const open = stack.at(-1);
  if (open !== undefined) {
    throw new Error(`${open.file}:${open.line}: "${open.body}" is never closed with end`);
  }
  return defined;
}

const withoutStrings = (body: string): string => body.replace(/"(?:[^"\\]|\\.)*"|`[^`]*`|'(?:[^'\\]|\\.)*'/g, '""');

/**
 * .helmignore's rules as helm applies them when it loads the chart: a pattern without "/" matches a file's or folder's
 * base name, one with "/" the path from the chart root; a trailing "/" only matches folders.
 */
function helmIgnore(): (path: string, isDirectory: boolean) => boolean {
  const glob = (pattern: string) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')}$`,
    );
  const rules = readText('.helmignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => ({
      dirOnly: line.endsWith('/'),
      base: !line.replace(/\/$/, '').includes('/'),
      re: glob(line.replace(/\/$/, '')),
    }));
  return (path, isDirectory) =>
    rules.some((r) => (!r.dirOnly || isDirectory) && r.re.test(r.base ? path.split('/').at(-1)! : path));
}

interface ChartTemplates {
  readonly files: Map<string, string>;
  readonly actions: TemplateAction[];
  readonly defined: Set<string>;
}

function loadTemplates(): ChartTemplates {
  const files = new Map<string, string>();
  const ignored = helmIgnore();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (ignored(relative(CHART, path), entry.isDirectory())) {
        continue;
      }
      if (entry.isDirectory()) {
        walk(path);
      } else {
        files.set(relative(CHART, path), readFileSync(path, 'utf8'));
      }
    }
  };
  walk(resolve(CHART, 'templates'));
  const actions: TemplateAction[] = [];
  const defined = new Set<string>();
  for (const [file, source] of files) {
    const fileActions = lexTemplate(source, file);
    checkControlFlow(fileActions).forEach((name) => defined.add(name));
    actions.push(...fileActions);
  }
  return { files, actions, defined };
}

/** Every `.Values.a.b` (or `$.Values.a.b`) path the templates reference, with where. */
function valuesReferences(actions: readonly TemplateAction[]): Map<string, string> {
  const refs = new Map<string, string>();
  for (const action of actions) {
    for (const match of withoutStrings(action.body).matchAll(/\.Values((?:\.[A-Za-z_]\w*)+)/g)) {
      refs.set(match[1]!.slice(1), `${action.file}:${action.line}`);
    }
  }
  return refs;
}

// ---------------------------------------------------------------------------------------------------------------
// helm, when present.

const HELM = findOnPath('helm');

function helm(...args: string[]): string {
  return execFileSync(HELM!, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function helmTemplate(release: string, ...sets: string[]): Manifest[] {
  const out = helm('template', release, CHART, ...sets.flatMap((s) => ['--set', s]));
  return parseManifests(out, `helm template ${release} ${sets.join(' ')}`);
}

const byKind = (manifests: readonly Manifest[], kind: string): Manifest[] => manifests.filter((m) => m.kind === kind);
const kindsAndNames = (manifests: readonly Manifest[]): string[] =>
  manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort();

/** A resource without what Helm adds or changes by design (labels, annotations, namespace, pod template metadata). */
function comparable(manifest: Manifest): unknown {
  const copy = structuredClone(manifest) as Manifest & { spec?: { template?: { metadata?: unknown } } };
  copy.metadata = { name: copy.metadata.name };
  delete copy.spec?.template?.metadata;
  return copy;
}

const K8S_DIR = resolve(ROOT, 'k8s');
const k8sManifests = (): Manifest[] =>
  readdirSync(K8S_DIR)
    .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml')
    .flatMap((file) => readManifests(join(K8S_DIR, file)));

function k8sOne(kind: string, name: string): Manifest {
  const found = k8sManifests().find((m) => m.kind === kind && m.metadata.name === name);
  if (found === undefined) {
    throw new Error(`k8s/ has no ${kind} ${name}`);
  }
  return found;
}

type PodSpec = { containers: Record<string, unknown>[]; initContainers?: Record<string, unknown>[] } & Record<
  string,
  unknown
>;
const podSpec = (m: Manifest): PodSpec => (m.spec as { template: { spec: PodSpec } }).template.spec;

// ---------------------------------------------------------------------------------------------------------------

describe('Helm chart helm/sentiment-analysis', () => {
  describe('values.schema.json', () => {
    const schema = JSON.parse(readText('values.schema.json')) as Record<string, unknown>;
    // strict: unknown keywords in the schema are errors; union types ("string or integer") are meant.
    const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);
    const errorsOf = (values: Values): string[] =>
      validate(values) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);

    it('should be draft-07 and accept values.yaml', () => {
      expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
      expect(errorsOf(readValues())).toEqual([]);
    });

    // Each mutation of the defaults is a mistake the schema must catch; `at` is where ajv must report it.
    const broken: [string, (v: Values) => void, string][] = [
      ['service.port as a word', (v) => ((v.service as Values).port = 'eighty'), '/service/port'],
      ['an unknown top-level key (replicas for replicaCount)', (v) => (v.replicas = 3), '/'],
      ['autoscaling.minReplicas: -1', (v) => ((v.autoscaling as Values).minReplicas = -1), '/autoscaling/minReplicas'],
      ['image.tag: latest', (v) => ((v.image as Values).tag = 'latest'), '/image/tag'],
      ['image.tag as a number', (v) => ((v.image as Values).tag = 2), '/image/tag'],
      ['tfServing.image.tag: latest', (v) => (((v.tfServing as Values).image as Values).tag = 'latest'), '/tfServing'],
      ['a misspelt env var', (v) => ((v.config as Values).LOG_LEVL = 'debug'), '/config'],
      ['a log level the API rejects', (v) => ((v.config as Values).LOG_LEVEL = 'verbose'), '/config/LOG_LEVEL'],
      ['MODEL_VERSION in config (set by the chart)', (v) => ((v.config as Values).MODEL_VERSION = '2'), '/config'],
      ['MAX_BATCH_SIZE above its maximum', (v) => ((v.config as Values).MAX_BATCH_SIZE = 5000), '/config'],
      ['a misspelt probe field', (v) => (((v.probes as Values).readiness as Values).periodSecond = 5), '/probes'],
      ['a port out of range', (v) => (((v.tfServing as Values).service as Values).restPort = 70000), '/tfServing'],
      ['a misspelt resource', (v) => (((v.resources as Values).limits as Values).memroy = '1Gi'), '/resources'],
      ['a model version that is no folder number', (v) => ((v.model as Values).version = 'v1'), '/model/version'],
      ['an unknown service type', (v) => ((v.service as Values).type = 'Ingress'), '/service/type'],
      ['pdb.maxUnavailable as a non-percentage', (v) => ((v.pdb as Values).maxUnavailable = 'one'), '/pdb'],
      ['no TF Serving version', (v) => ((v.tfServing as Values).versions = []), '/tfServing/versions'],
      ['a served version that is no folder number', (v) => ((v.tfServing as Values).versions = ['v2']), '/tfServing'],
      ['a served version listed twice', (v) => ((v.tfServing as Values).versions = ['1', '1']), '/tfServing'],
      [
        'a label TF Serving rejects',
        (v) => (((v.tfServing as Values).labels as Values)['can-ary'] = '1'),
        '/tfServing',
      ],
      [
        'a label on no version number',
        (v) => (((v.tfServing as Values).labels as Values).canary = 'two'),
        '/tfServing',
      ],
    ];
    it.each(broken)('should reject %s', (_name, mutate, at) => {
      const values = readValues();
      mutate(values);
      const errors = errorsOf(values);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.some((e) => e.startsWith(at))).toBe(true);
    });

    // What `--set` produces (integers, not strings) and reasonable overrides stay valid.
    const accepted: [string, (v: Values) => void][] = [
      ['config.MAX_BATCH_SIZE as an integer (--set)', (v) => ((v.config as Values).MAX_BATCH_SIZE = 128)],
      ['model.version as an integer (--set)', (v) => ((v.model as Values).version = 2)],
      ['model.version empty (the highest)', (v) => ((v.model as Values).version = '')],
      [
        'a registry with a port and a version tag',
        (v) => (v.image = { ...(v.image as Values), repository: 'registry.example.com:5000/team/sa', tag: '1.2.3' }),
      ],
      ['a fractional BATCH_MAX_WAIT_MS', (v) => ((v.config as Values).BATCH_MAX_WAIT_MS = 0.5)],
      ['pdb.minAvailable as a percentage', (v) => ((v.pdb as Values).minAvailable = '50%')],
      [
        'TF Serving elsewhere',
        (v) => Object.assign(v.config as Values, { TF_SERVING_URL: 'https://tfs.example:8501' }),
      ],
      ['DOCS_ENABLED as a boolean', (v) => ((v.config as Values).DOCS_ENABLED = false)],
      [
        'TF Serving versions and labels as integers (--set tfServing.versions={1,2})',
        (v) => Object.assign(v.tfServing as Values, { versions: [1, 2], labels: { stable: 1, canary: 2 } }),
      ],
      ['no version labels', (v) => ((v.tfServing as Values).labels = {})],
    ];
    it.each(accepted)('should accept %s', (_name, mutate) => {
      const values = readValues();
      mutate(values);
      expect(errorsOf(values)).toEqual([]);
    });

    it('should describe every configurable env var and only those in values.yaml', () => {
      const configSchema = (schema.properties as { config: { properties: Record<string, unknown> } }).config;
      expect(Object.keys(configSchema.properties).sort()).toEqual(Object.keys(readValues().config as Values).sort());
    });
  });

  describe('versions (kept by npm run version:sync)', () => {
    it("should give Chart.yaml's version and appVersion as package.json's version", () => {
      expect(chartYaml).toMatchObject({ apiVersion: 'v2', name: CHART_NAME, type: 'application' });
      expect(chartYaml.version).toBe(pkg.version);
      expect(chartYaml.appVersion).toBe(pkg.version);
    });

    it('should take the model version and the TF Serving image from package.json config', () => {
      const values = readValues();
      expect(valueAt(values, 'model.version')).toBe(pkg.config.modelVersion);
      const image = valueAt(values, 'tfServing.image') as { repository: string; tag: string };
      expect(`${image.repository}:${image.tag}`).toBe(pkg.config.tfServingImage);
      expect(valueAt(values, 'image.repository')).toBe(CHART_NAME);
      expect(valueAt(values, 'image.tag')).toBe('');
    });

    it('should take the versions TF Serving serves and their labels from package.json config', () => {
      const values = readValues();
      expect(valueAt(values, 'tfServing.versions')).toEqual(pkg.config.servedModelVersions);
      expect(valueAt(values, 'tfServing.labels')).toEqual(pkg.config.modelVersionLabels);
    });

    it.each(['Chart.yaml', 'values.yaml'])('should survive the yaml rewrite of version:sync unchanged: %s', (file) => {
      const text = readText(file);
      const doc = parseDocument(text);
      if (file === 'Chart.yaml') {
        doc.set('version', pkg.version);
        doc.set('appVersion', pkg.version);
      } else {
        const [repository, tag] = pkg.config.tfServingImage.split(':');
        doc.setIn(['model', 'version'], pkg.config.modelVersion);
        doc.setIn(['tfServing', 'image', 'repository'], repository);
        doc.setIn(['tfServing', 'image', 'tag'], tag);
      }
      expect(doc.toString({ lineWidth: 0 })).toBe(text);
    });
  });

  describe('API configuration', () => {
    const envVars = Object.keys(envSchema.shape).sort();

    it('should only set env vars the API reads', () => {
      const unknown = Object.keys(readValues().config as Values).filter((name) => !envVars.includes(name));
      expect(unknown).toEqual([]);
      expect(DERIVED_ENV.filter((name) => !envVars.includes(name))).toEqual([]);
    });

    it('should let every env var the API reads be set (config.* or derived by the chart)', () => {
      const covered = [...Object.keys(readValues().config as Values), ...DERIVED_ENV].sort();
      expect(covered).toEqual(envVars);
    });

    it("should render a ConfigMap the API's own validation accepts, equal to k8s/api-configmap.yaml", () => {
      const data = renderConfigData(readValues(), CHART_NAME);
      const config = loadConfig(data);
      expect(config.tfServing.url).toBe('http://sentiment-analysis-tf-serving:8501');
      expect(config.model).toEqual({
        dir: '/app/models/sentiment_analysis',
        version: pkg.config.modelVersion,
        tokenizerFastPath: true,
      });
      expect(config.server.port).toBe(5001);
      expect(data).toEqual((k8sOne('ConfigMap', CHART_NAME) as { data?: unknown }).data);
    });

    it("should point TF_SERVING_URL at the release's own TF Serving, or leave it out when TF Serving is off", () => {
      expect(renderConfigData(readValues(), 'test').TF_SERVING_URL).toBe(
        'http://test-sentiment-analysis-tf-serving:8501',
      );
      const off = readValues();
      (off.tfServing as Values).enabled = false;
      expect(renderConfigData(off, 'test').TF_SERVING_URL).toBeUndefined();
      expect(loadConfig(renderConfigData(off, 'test')).tfServing.url).toBe('http://localhost:8501');
    });
  });

  describe('templates (static, without helm)', () => {
    // Loaded in each test, so that a broken template fails the tests instead of the whole file.
    let loaded: ChartTemplates | undefined;
    const chart = (): ChartTemplates => (loaded ??= loadTemplates());
    const values = readValues();

    it('should hold the expected files, each lexing as a Go template with balanced {{ }} and blocks', () => {
      const templates = chart();
      expect([...templates.files.keys()].sort()).toEqual(
        [
          'NOTES.txt',
          '_helpers.tpl',
          'configmap.yaml',
          'deployment.yaml',
          'hpa.yaml',
          'pdb.yaml',
          'service.yaml',
          'tests/test-readiness.yaml',
          'tf-serving-configmap.yaml',
          'tf-serving-deployment.yaml',
          'tf-serving-service.yaml',
        ].map((f) => join('templates', f)),
      );
      expect(templates.actions.length).toBeGreaterThan(100);
    });

    it('should catch broken template text (the lexer is not vacuous)', () => {
      expect(() => checkControlFlow(lexTemplate('{{ if .Values.a }}x', 't'))).toThrow(/never closed/);
      expect(() => checkControlFlow(lexTemplate('x{{ end }}', 't'))).toThrow(/end without/);
      expect(() => lexTemplate('{{ .Values.a }', 't')).toThrow(/not closed/);
      expect(() => lexTemplate('a }} b', 't')).toThrow(/outside an action/);
      expect(() => lexTemplate('{{-if .Values.a }}{{ end }}', 't')).toThrow(/followed by a space/);
      expect(() => lexTemplate('{{ "}}" }}{{/* c */}}', 't')).not.toThrow();
    });

    it('should include only templates the chart defines, and use every one it defines', () => {
      const templates = chart();
      const used = new Set<string>();
      for (const action of templates.actions) {
        for (const match of action.body.matchAll(/\b(?:include|template)\s+"([^"]+)"/g)) {
          used.add(match[1]!);
        }
      }
      expect([...used].filter((name) => !templates.defined.has(name))).toEqual([]);
      expect([...templates.defined].filter((name) => !used.has(name))).toEqual([]);
    });

    it('should reference only .Values paths that values.yaml has', () => {
      const refs = valuesReferences(chart().actions);
      expect(refs.size).toBeGreaterThan(30);
      const missing = [...refs].filter(([path]) => !hasPath(values, path)).map(([path, at]) => `${path} (${at})`);
      expect(missing).toEqual([]);
    });

    it('should use every value of values.yaml in some template', () => {
      const refs = valuesReferences(chart().actions);
      const unused = leafPaths(values).filter((path) => !coveredBy(path, refs.keys()));
      expect(unused).toEqual([]);
    });

    it('should document every value with ## @param, naming only existing values', () => {
      const params = [...readText('values.yaml').matchAll(/^## @param (\S+)/gm)].map((m) => m[1]!);
      expect(params.filter((path) => !hasPath(values, path))).toEqual([]);
      expect(leafPaths(values).filter((path) => !coveredBy(path, params))).toEqual([]);
    });

    it("should probe the app's real routes: startup and liveness /health/live, readiness /health/ready", () => {
      const controller = readFileSync(resolve(ROOT, 'src/health/health.controller.ts'), 'utf8');
      expect(controller).toMatch(/@Controller\(\{ path: 'health'/);
      expect(controller).toContain("@Get('live')");
      expect(controller).toContain("@Get('ready')");
      const templates = chart();
      const deployment = templates.files.get(join('templates', 'deployment.yaml'))!;
      const probes = Object.fromEntries(
        [...deployment.matchAll(/(\w+Probe):\s*\n\s*httpGet:\s*\n\s*path: (\S+)\s*\n\s*port: (\S+)/g)].map((m) => [
          m[1],
          `${m[3]} ${m[2]}`,
        ]),
      );
      expect(probes).toEqual({
        startupProbe: 'http /health/live',
        livenessProbe: 'http /health/live',
        readinessProbe: 'http /health/ready',
      });
      expect(deployment).toMatch(/- name: http\s*\n\s*containerPort: \{\{ \.Values\.containerPort \}\}/);
      expect(valueAt(values, 'containerPort')).toBe(5001);
      // No probe path is configurable; any /health path anywhere in values or templates is one of the two.
      const allText = [readText('values.yaml'), ...templates.files.values()].join('\n');
      expect(new Set(allText.match(/\/health\/\w+/g))).toEqual(
        new Set(['/health/live', '/health/ready', '/health/dependencies']),
      );
      expect(allText).not.toMatch(/^[ \t]*path: (?!\/health\/(live|ready)$)/m);
    });

    it('should make the test pod a helm test hook that expects 200 from the API Service /health/ready', () => {
      const pod = chart().files.get(join('templates', 'tests', 'test-readiness.yaml'))!;
      expect(pod).toMatch(/^kind: Pod$/m);
      expect(pod).toContain('"helm.sh/hook": test');
      expect(pod).toContain('"helm.sh/hook-delete-policy": before-hook-creation,hook-succeeded');
      expect(pod).toContain(
        "fetch('http://%s:%d/health/ready').then(r => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))",
      );
      expect(pod).toContain('include "sentiment-analysis.image"');
      expect(pod).toContain('.Values.securityContext');
      expect(pod).toContain('.Values.tests.resources');
    });

    it('should omit replicas under the HPA and render HPA, PDB and TF Serving only when they apply', () => {
      const file = (name: string) => chart().files.get(join('templates', name))!;
      expect(file('deployment.yaml')).toMatch(
        /\{\{- if not \.Values\.autoscaling\.enabled \}\}\s*\n\s*replicas: \{\{ \.Values\.replicaCount \}\}/,
      );
      expect(file('hpa.yaml')).toMatch(/^\{\{- if \.Values\.autoscaling\.enabled \}\}/);
      expect(file('pdb.yaml')).toContain(
        '$replicas := ternary .Values.autoscaling.minReplicas .Values.replicaCount .Values.autoscaling.enabled',
      );
      expect(file('pdb.yaml')).toContain('if and .Values.pdb.enabled (gt (int $replicas) 1)');
      for (const name of ['tf-serving-configmap.yaml', 'tf-serving-deployment.yaml', 'tf-serving-service.yaml']) {
        expect(file(name)).toMatch(/^\{\{- if \.Values\.tfServing\.enabled \}\}/);
      }
      expect(file('deployment.yaml')).toContain('checksum/config');
    });
  });

  describe("TF Serving's model config (static, without helm)", () => {
    const file = (name: string) => readText(join('templates', name));
    const k8sModelConfig = () =>
      (k8sOne('ConfigMap', `${CHART_NAME}-tf-serving`) as Manifest & { data: Record<string, string> }).data;

    it('should render from tfServing.versions and tfServing.labels the model config k8s/ holds', () => {
      const text = renderModelConfig(readValues());
      expect(k8sModelConfig()).toEqual({ 'models.config': text });
      const [model] = parseModelServerConfig(text);
      expect(model!.versions).toEqual((valueAt(readValues(), 'tfServing.versions') as string[]).map(Number));
    });

    it('should render each versions and labels entry, sorted labels, with the text version:sync writes', () => {
      const helpers = file('_helpers.tpl');
      const define =
        /\{\{- define "sentiment-analysis\.tfServing\.modelConfig" -\}\}([\s\S]*?)\n\{\{- end \}\}\n?$/.exec(
          helpers.slice(helpers.indexOf('define "sentiment-analysis.tfServing.modelConfig"') - 4),
        )?.[1];
      expect(define).toBeDefined();
      // Every literal line of the template is a line of the generated text; the others print the values.
      const rendered = renderModelConfig(readValues()).split('\n');
      const literal = define!.split('\n').filter((line) => line.trim() !== '' && !line.includes('{{'));
      expect(literal.filter((line) => !rendered.includes(line))).toEqual([]);
      expect(define).toContain('    name: {{ .Values.model.name | quote }}');
      expect(define).toContain('    base_path: {{ printf "/models/%s" .Values.model.name | quote }}');
      expect(define).toMatch(/\{\{- range \$versions \}\}\n\s+versions: \{\{ \. \}\}\n\s+\{\{- end \}\}/);
      expect(define).toContain('{{- range $label, $version := .Values.tfServing.labels }}');
      expect(define).toContain('      key: {{ $label | quote }}');
      expect(define).toContain('      value: {{ include "sentiment-analysis.envValue" $version }}');
      expect(helpers).toContain('{{- range .Values.tfServing.versions }}');
    });

    it('should fail the render when a label, or the version or label v2 asks for, is not served', () => {
      expect(file('_helpers.tpl')).toContain('which tfServing.versions (%s) does not list');
      const configMap = file('tf-serving-configmap.yaml');
      expect(configMap).toContain('{{- if not .Values.config.TF_SERVING_URL }}');
      expect(configMap).toContain('.Values.config.TF_SERVING_MODEL_VERSION');
      expect(configMap).toContain('.Values.config.TF_SERVING_MODEL_LABEL');
      expect(configMap).toContain('$pinned = include "sentiment-analysis.envValue" .Values.model.version');
      expect(configMap).toContain('(not (hasKey .Values.tfServing.labels $label))');
      expect(configMap).toMatch(
        /models\.config: \|\n\s+\{\{- include "sentiment-analysis\.tfServing\.modelConfig" \. \| trim \| nindent 4 \}\}/,
      );
    });

    it('should start TF Serving with it like k8s/, and roll the pods when it changes (checksum annotation)', () => {
      const deployment = file('tf-serving-deployment.yaml');
      const k8sServer = podSpec(k8sOne('Deployment', `${CHART_NAME}-tf-serving`)).containers[0]!;
      for (const arg of k8sServer.args as string[]) {
        expect(deployment).toContain(`            - ${arg}\n`);
      }
      expect(deployment).toContain(
        '{{- $checksum := include (print $.Template.BasePath "/tf-serving-configmap.yaml") . | sha256sum }}',
      );
      expect(deployment).toContain('(dict "checksum/model-config" $checksum) .Values.tfServing.podAnnotations');
      expect(deployment).toMatch(/- name: model-config\n\s+mountPath: \/etc\/tf-serving\n\s+readOnly: true/);
      expect(deployment).toMatch(
        /- name: model-config\n\s+configMap:\n\s+name: \{\{ include "sentiment-analysis\.tfServing\.fullname" \. \}\}/,
      );
      expect(deployment).not.toContain('MODEL_BASE_PATH');
    });
  });

  describe('defaults mirror k8s/', () => {
    const values = readValues();
    const api = k8sOne('Deployment', CHART_NAME);
    const tfs = k8sOne('Deployment', `${CHART_NAME}-tf-serving`);
    const apiContainer = podSpec(api).containers[0]!;
    const tfsContainer = podSpec(tfs).containers[0]!;
    const withoutHandler = (probe: unknown) => {
      const { httpGet: _h, tcpSocket: _t, exec: _e, ...settings } = probe as Record<string, unknown>;
      return { enabled: true, ...settings };
    };

    it('should default to the same images, ports and replicas', () => {
      expect(apiContainer.image).toBe(`${String(valueAt(values, 'image.repository'))}:${String(chartYaml.appVersion)}`);
      expect(tfsContainer.image).toBe(pkg.config.tfServingImage);
      expect(apiContainer.ports).toEqual([{ name: 'http', containerPort: values.containerPort, protocol: 'TCP' }]);
      const service = k8sOne('Service', CHART_NAME).spec as { type: string; ports: { port: number }[] };
      expect([service.type, service.ports[0]!.port]).toEqual([
        valueAt(values, 'service.type'),
        valueAt(values, 'service.port'),
      ]);
      const tfsService = k8sOne('Service', `${CHART_NAME}-tf-serving`).spec as {
        ports: { name: string; port: number }[];
      };
      expect(tfsService.ports.map((p) => `${p.name} ${p.port}`)).toEqual([
        `rest ${String(valueAt(values, 'tfServing.service.restPort'))}`,
        `grpc ${String(valueAt(values, 'tfServing.service.grpcPort'))}`,
      ]);
      expect((tfs.spec as { replicas: number }).replicas).toBe(valueAt(values, 'tfServing.replicaCount'));
    });

    it('should default to the same probes, resources and security contexts', () => {
      for (const probe of ['startup', 'liveness', 'readiness']) {
        expect(withoutHandler(apiContainer[`${probe}Probe`])).toEqual(valueAt(values, `probes.${probe}`));
        expect(withoutHandler(tfsContainer[`${probe}Probe`])).toEqual(valueAt(values, `tfServing.probes.${probe}`));
      }
      expect(apiContainer.resources).toEqual(values.resources);
      expect(tfsContainer.resources).toEqual(valueAt(values, 'tfServing.resources'));
      expect(podSpec(tfs).initContainers![0]!.resources).toEqual(valueAt(values, 'tfServing.modelInit.resources'));
      for (const workload of [api, tfs]) {
        expect(podSpec(workload).securityContext).toEqual(values.podSecurityContext);
        for (const container of containersOf(workload)) {
          expect(container.securityContext).toEqual(values.securityContext);
        }
      }
    });

    it('should default to the same rollout, scaling and disruption settings', () => {
      const spec = api.spec as Record<string, unknown>;
      expect(spec.replicas).toBeUndefined();
      expect(spec.strategy).toEqual(values.updateStrategy);
      expect([spec.revisionHistoryLimit, spec.minReadySeconds, spec.progressDeadlineSeconds]).toEqual([
        values.revisionHistoryLimit,
        values.minReadySeconds,
        values.progressDeadlineSeconds,
      ]);
      expect(podSpec(api).terminationGracePeriodSeconds).toBe(values.terminationGracePeriodSeconds);
      expect(podSpec(tfs).terminationGracePeriodSeconds).toBe(
        valueAt(values, 'tfServing.terminationGracePeriodSeconds'),
      );
      const hpa = k8sOne('HorizontalPodAutoscaler', CHART_NAME).spec as {
        minReplicas: number;
        maxReplicas: number;
        metrics: { resource: { target: { averageUtilization: number } } }[];
      };
      expect(values.autoscaling).toEqual({
        enabled: true,
        minReplicas: hpa.minReplicas,
        maxReplicas: hpa.maxReplicas,
        targetCPUUtilizationPercentage: hpa.metrics[0]!.resource.target.averageUtilization,
      });
      const pdb = k8sOne('PodDisruptionBudget', CHART_NAME).spec as { maxUnavailable: number };
      expect(valueAt(values, 'pdb.maxUnavailable')).toBe(pdb.maxUnavailable);
    });
  });

  describeWhere(
    HELM === undefined ? 'helm not found on PATH (../shared/tools/helm-kubectl DIR installs it)' : undefined,
    'helm lint, helm template and helm package',
    () => {
      const VARIANTS: string[][] = [
        [],
        ['autoscaling.enabled=false', 'replicaCount=1'],
        ['tfServing.enabled=false'],
        ['tfServing.versions={1,2}', 'tfServing.labels.canary=2'],
      ];

      it(
        'should pass helm lint --strict with the defaults and each variant',
        () => {
          for (const sets of VARIANTS) {
            expect(helm('lint', '--strict', CHART, ...sets.flatMap((s) => ['--set', s]))).toMatch(
              /0 chart\(s\) failed/,
            );
          }
        },
        HELM_TIMEOUT_MS,
      );

      it(
        'should render manifests the Kubernetes API schemas accept, for the defaults and each variant',
        async () => {
          for (const sets of VARIANTS) {
            const manifests = helmTemplate('test', ...sets);
            expect(manifests.length).toBeGreaterThan(0);
            for (const manifest of manifests) {
              await validateManifest(manifest, `helm template test ${sets.join(' ')}`);
            }
          }
        },
        HELM_TIMEOUT_MS,
      );

      it(
        'should render what k8s/ deploys, plus the helm test pod, when the release is named sentiment-analysis',
        () => {
          const rendered = helmTemplate(CHART_NAME);
          const k8s = k8sManifests();
          const pods = byKind(rendered, 'Pod');
          expect(kindsAndNames(rendered.filter((m) => m.kind !== 'Pod'))).toEqual(kindsAndNames(k8s));
          for (const expected of k8s) {
            const actual = rendered.find(
              (m) => m.kind === expected.kind && m.metadata.name === expected.metadata.name,
            )!;
            expect(comparable(actual)).toEqual(comparable(expected));
            expect(actual.metadata.labels).toMatchObject({
              ...expected.metadata.labels,
              'app.kubernetes.io/managed-by': 'Helm',
            });
            expect(actual.metadata.labels?.['helm.sh/chart']).toBe(`${CHART_NAME}-${pkg.version}`);
          }
          const api = rendered.find((m) => m.kind === 'Deployment' && m.metadata.name === CHART_NAME)!;
          const template = (api.spec as { template: { metadata: { annotations: Record<string, string> } } }).template;
          expect(template.metadata.annotations['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
          expect(pods).toHaveLength(1);
          expect(pods[0]!.metadata.annotations).toEqual({
            'helm.sh/hook': 'test',
            'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
          });
          const [testContainer] = containersOf(pods[0]!);
          expect(testContainer!.image).toBe(`${CHART_NAME}:${pkg.version}`);
          expect(testContainer!.command).toEqual([
            'node',
            '-e',
            "fetch('http://sentiment-analysis:80/health/ready').then(r => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))",
          ]);
          expect(testContainer!.securityContext).toMatchObject({ readOnlyRootFilesystem: true });
          expect(testContainer!.resources).toBeDefined();
          expect((pods[0]!.spec as { securityContext: unknown }).securityContext).toMatchObject({ runAsNonRoot: true });
        },
        HELM_TIMEOUT_MS,
      );

      it(
        "should render TF Serving's model config from tfServing.versions and labels, and refuse unserved ones",
        () => {
          const modelConfigOf = (manifests: Manifest[]) => {
            const configMap = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name.endsWith('-tf-serving'));
            return (configMap as Manifest & { data: Record<string, string> }).data['models.config']!;
          };
          const checksumOf = (manifests: Manifest[]) =>
            (
              manifests.find((m) => m.kind === 'Deployment' && m.metadata.name.endsWith('-tf-serving'))!.spec as {
                template: { metadata: { annotations: Record<string, string> } };
              }
            ).template.metadata.annotations['checksum/model-config'];
          const defaults = helmTemplate('test');
          expect(modelConfigOf(defaults)).toBe(renderModelConfig(readValues()));
          const canary = helmTemplate('test', 'tfServing.versions={1,2}', 'tfServing.labels.canary=2');
          expect(parseModelServerConfig(modelConfigOf(canary))).toEqual([
            {
              name: 'sentiment_analysis',
              basePath: '/models/sentiment_analysis',
              platform: 'tensorflow',
              versions: [1, 2],
              labels: { stable: 1, canary: 2 },
            },
          ]);
          expect(checksumOf(canary)).toMatch(/^[0-9a-f]{64}$/);
          expect(checksumOf(canary)).not.toBe(checksumOf(defaults));
          // v2 on the canary label; v1 stays on model.version.
          const onLabel = helmTemplate(
            'test',
            'tfServing.versions={1,2}',
            'tfServing.labels.canary=2',
            'config.TF_SERVING_MODEL_LABEL=canary',
          );
          const data = (byKind(onLabel, 'ConfigMap').find((m) => m.metadata.name === 'test-sentiment-analysis') as
            (Manifest & { data: Record<string, string> }) | undefined)!.data;
          expect(loadConfig(data).tfServing).toMatchObject({ label: 'canary', version: undefined });
          expect(() => helmTemplate('test', 'tfServing.labels.canary=2')).toThrow(/canary is version 2, which/);
          expect(() => helmTemplate('test', 'model.version=2')).toThrow(/v2 asks TF Serving for version 2/);
          expect(() => helmTemplate('test', 'config.TF_SERVING_MODEL_LABEL=beta')).toThrow(/does not define/);
          expect(() => helmTemplate('test', 'tfServing.enabled=false', 'model.version=2')).not.toThrow();
        },
        HELM_TIMEOUT_MS,
      );

      it(
        'should drop the HPA and the PDB for one fixed replica, and TF Serving when disabled',
        () => {
          const fixed = helmTemplate('test', 'autoscaling.enabled=false', 'replicaCount=1');
          expect(byKind(fixed, 'HorizontalPodAutoscaler')).toEqual([]);
          expect(byKind(fixed, 'PodDisruptionBudget')).toEqual([]);
          const api = byKind(fixed, 'Deployment').find((m) => m.metadata.name === 'test-sentiment-analysis')!;
          expect((api.spec as { replicas: number }).replicas).toBe(1);
          const defaults = helmTemplate('test');
          expect(byKind(defaults, 'PodDisruptionBudget')).toHaveLength(1);
          expect(
            byKind(defaults, 'Deployment').find((m) => m.metadata.name === 'test-sentiment-analysis')!.spec,
          ).not.toHaveProperty('replicas');
          const withoutTfServing = helmTemplate('test', 'tfServing.enabled=false');
          expect(kindsAndNames(withoutTfServing).filter((name) => name.includes('tf-serving'))).toEqual([]);
          const configMap = byKind(withoutTfServing, 'ConfigMap')[0] as Manifest & { data: Record<string, string> };
          expect(configMap.data).not.toHaveProperty('TF_SERVING_URL');
          expect(() => loadConfig(configMap.data)).not.toThrow();
          const withTfServing = byKind(defaults, 'ConfigMap')[0] as Manifest & { data: Record<string, string> };
          expect(withTfServing.data.TF_SERVING_URL).toBe('http://test-sentiment-analysis-tf-serving:8501');
        },
        HELM_TIMEOUT_MS,
      );

      it(
        'should package the chart, and the package lint and render as the folder does',
        () => {
          const out = mkdtempSync(join(tmpdir(), 'helm-package-'));
          try {
            expect(helm('package', CHART, '--destination', out)).toMatch(/Successfully packaged chart/);
            const archive = join(out, `${CHART_NAME}-${pkg.version}.tgz`);
            expect(readdirSync(out)).toEqual([`${CHART_NAME}-${pkg.version}.tgz`]);
            expect(helm('lint', '--strict', archive)).toMatch(/0 chart\(s\) failed/);
            expect(helm('template', 'test', archive)).toBe(helm('template', 'test', CHART));
          } finally {
            rmSync(out, { recursive: true, force: true });
          }
        },
        HELM_TIMEOUT_MS,
      );
    },
  );
});
