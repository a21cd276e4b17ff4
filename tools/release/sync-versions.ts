/**
 * `npm run version:sync [-- --check]`: one place for versions. package.json holds the app version (`version`,
 * also the image tag and the chart's version/appVersion), the model version served (`config.modelVersion`),
 * the model versions TF Serving loads side by side and their labels (`config.servedModelVersions`,
 * `config.modelVersionLabels`), the TF Serving image and the Node base image (`config.tfServingImage`,
 * `config.nodeImage`). This writes them into .env (read by docker compose), the Dockerfile, TF Serving's model config
 * (tf-serving/models.config for compose, the ConfigMap in k8s/), k8s/ and the Helm chart, editing YAML with comments
 * kept. It refuses versions that do not fit together (a label on a version not served, a version without its
 * folder). `--check` changes nothing and exits 1 listing the files that disagree (a test runs it).
 * `npm version <x>` runs it through the `version` lifecycle script.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, isSeq, parseAllDocuments, parseDocument, Scalar, type Document } from 'yaml';
import { REPO_ROOT } from '../common/sst2.js';

interface Versions {
  readonly app: string;
  readonly model: string;
  /** Versions TF Serving loads side by side (model_version_policy specific), as version folder numbers. */
  readonly served: readonly string[];
  /** TF Serving version labels (stable, canary) → a served version. */
  readonly labels: Readonly<Record<string, string>>;
  readonly tfServingImage: string;
  readonly nodeImage: string;
}

export function readVersions(root = REPO_ROOT): Versions {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    version: string;
    config: {
      modelVersion: string;
      servedModelVersions?: string[];
      modelVersionLabels?: Record<string, string>;
      tfServingImage: string;
      nodeImage: string;
    };
  };
  const { servedModelVersions, modelVersionLabels } = pkg.config;
  if (!Array.isArray(servedModelVersions) || typeof modelVersionLabels !== 'object' || modelVersionLabels === null) {
    throw new Error('package.json config needs servedModelVersions (a list) and modelVersionLabels (label: version)');
  }
  return {
    app: pkg.version,
    model: pkg.config.modelVersion,
    served: servedModelVersions.map(String),
    labels: Object.fromEntries(Object.entries(modelVersionLabels).map(([label, v]) => [label, String(v)])),
    tfServingImage: pkg.config.tfServingImage,
    nodeImage: pkg.config.nodeImage,
  };
}

/** The model TF Serving serves: its name, and where its version folders are (in the repository, in the container). */
export const TF_SERVING_MODEL = {
  name: 'sentiment_analysis',
  basePath: '/models/sentiment_analysis',
  repoDir: join('models', 'sentiment_analysis'),
} as const;

/**
 * TF Serving's model config: the file docker compose mounts (its folder, at /etc/tf-serving) and its key in the k8s/
 * ConfigMap (mounted there too); TF Serving reads it with --model_config_file=/etc/tf-serving/models.config.
 */
export const TF_SERVING_CONFIG = {
  file: join('tf-serving', 'models.config'),
  key: 'models.config',
} as const;

/**
 * TF Serving's model config, text-format ModelServerConfig: one model, the versions loaded side by side
 * (`specific`) and the version labels, sorted by label. The Helm chart renders the same text from tfServing.versions
 * and tfServing.labels (templates/_helpers.tpl), so keep both in step.
 */
export function tfServingModelConfig(
  model: { readonly name: string; readonly basePath: string },
  served: readonly string[],
  labels: Readonly<Record<string, string>>,
): string {
  const lines = [
    '# TensorFlow Serving model config (text-format ModelServerConfig), generated: npm run version:sync writes it from',
    '# package.json (config.servedModelVersions, config.modelVersionLabels), the Helm chart from tfServing.versions',
    '# and tfServing.labels. TF Serving reads it at start.',
    'model_config_list {',
    '  config {',
    `    name: ${JSON.stringify(model.name)}`,
    `    base_path: ${JSON.stringify(model.basePath)}`,
    '    model_platform: "tensorflow"',
    '    model_version_policy {',
    '      specific {',
    ...served.map((v) => `        versions: ${v}`),
    '      }',
    '    }',
    ...Object.keys(labels)
      .sort()
      .flatMap((label) => [
        '    version_labels {',
        `      key: ${JSON.stringify(label)}`,
        `      value: ${labels[label]}`,
        '    }',
      ]),
    '  }',
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

/** What is wrong with the served versions and labels in package.json; empty when they fit together. */
export function servedVersionProblems(v: Versions, root = REPO_ROOT): string[] {
  const problems: string[] = [];
  const number = /^\d+$/;
  for (const version of v.served) {
    if (!number.test(version)) {
      problems.push(`servedModelVersions: ${version} is not a version folder number`);
    } else if (!existsSync(join(root, TF_SERVING_MODEL.repoDir, version, 'saved_model.pb'))) {
      problems.push(`servedModelVersions: ${TF_SERVING_MODEL.repoDir}/${version}/saved_model.pb does not exist`);
    }
  }
  if (new Set(v.served).size !== v.served.length || v.served.length === 0) {
    problems.push('servedModelVersions: needs at least one version, each once');
  }
  if (!v.served.includes(v.model)) {
    problems.push(`modelVersion ${v.model} is not among servedModelVersions (${v.served.join(', ')})`);
  }
  for (const [label, version] of Object.entries(v.labels)) {
    if (!/^[A-Za-z0-9_]+$/.test(label)) {
      problems.push(`modelVersionLabels: ${label} is not a label (letters, digits, _)`);
    }
    if (!v.served.includes(version)) {
      problems.push(`modelVersionLabels: ${label} points at ${version}, which servedModelVersions does not list`);
    }
  }
  return problems;
}

const APP_IMAGE = 'sentiment-analysis';

/** Keep our YAML style: long lines unfolded, `[ALL]` not `[ ALL ]`. */
const YAML_OUTPUT = { lineWidth: 0, flowCollectionPadding: false } as const;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Sets the version label everywhere, pins images and writes TF Serving's model config (with its checksum on the pod
 * template, so that `kubectl apply` of a changed config rolls TF Serving, which reads it only at start), in one
 * parsed YAML document.
 */
function syncK8sDocument(doc: Document, v: Versions): void {
  const modelConfig = tfServingModelConfig(TF_SERVING_MODEL, v.served, v.labels);
  const visit = (node: unknown, path: string[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = String((pair.key as { value?: unknown } | null)?.value ?? pair.key);
        const value = pair.value as { value?: unknown } | null;
        if (key === 'app.kubernetes.io/version' && value && 'value' in value) {
          value.value = v.app;
        } else if (key === 'image' && value && typeof value.value === 'string') {
          if (value.value.startsWith(`${APP_IMAGE}:`)) {
            value.value = `${APP_IMAGE}:${v.app}`;
          } else if (value.value.startsWith('tensorflow/serving:')) {
            value.value = v.tfServingImage;
          }
        } else if (
          (key === 'MODEL_VERSION' || key === 'TF_SERVING_MODEL_VERSION') &&
          path.at(-1) === 'data' &&
          value &&
          'value' in value
        ) {
          value.value = v.model;
        } else if (key === 'newTag' && value && 'value' in value) {
          value.value = v.app;
        } else if (key === TF_SERVING_CONFIG.key && path.at(-1) === 'data' && value && 'value' in value) {
          value.value = modelConfig;
        } else if (key === 'checksum/model-config' && value && 'value' in value) {
          value.value = sha256(modelConfig);
        } else {
          visit(pair.value, [...path, key]);
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((item) => visit(item, path));
    }
  };
  visit(doc.contents, []);
}

/** Replaces a list or map only when its content differs (keeping comments), with the versions single-quoted. */
function setQuotedIfChanged(doc: Document, path: string[], value: unknown): void {
  const current = doc.getIn(path);
  if ((isSeq(current) || isMap(current)) && isDeepStrictEqual(current.toJSON(), value)) {
    return;
  }
  const node = doc.createNode(value);
  const quote = (item: unknown): void => {
    if (isScalar(item)) {
      item.type = Scalar.QUOTE_SINGLE;
    }
  };
  if (isSeq(node)) {
    node.items.forEach(quote);
  } else if (isMap(node)) {
    node.items.forEach((pair) => quote(pair.value));
  }
  doc.setIn(path, node);
}

function syncChart(path: string, text: string, v: Versions): string {
  const doc = parseDocument(text);
  if (path.endsWith('Chart.yaml')) {
    doc.set('version', v.app);
    doc.set('appVersion', v.app);
  } else {
    const [repository, tag] = v.tfServingImage.split(':');
    doc.setIn(['model', 'version'], v.model);
    doc.setIn(['tfServing', 'image', 'repository'], repository);
    doc.setIn(['tfServing', 'image', 'tag'], tag);
    setQuotedIfChanged(doc, ['tfServing', 'versions'], [...v.served]);
    setQuotedIfChanged(doc, ['tfServing', 'labels'], { ...v.labels });
  }
  return doc.toString(YAML_OUTPUT);
}

/** Every file this script owns, with the content it should have. */
export function expectedFiles(root = REPO_ROOT): Map<string, string> {
  const v = readVersions(root);
  const files = new Map<string, string>();
  files.set(
    '.env',
    `# Written by \`npm run version:sync\` from package.json; read by docker compose.\nAPP_VERSION=${v.app}\nMODEL_VERSION=${v.model}\nTF_SERVING_IMAGE=${v.tfServingImage}\n`,
  );
  files.set(TF_SERVING_CONFIG.file, tfServingModelConfig(TF_SERVING_MODEL, v.served, v.labels));
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  files.set('Dockerfile', dockerfile.replace(/^ARG NODE_IMAGE=.*$/m, `ARG NODE_IMAGE=${v.nodeImage}`));
  for (const file of readdirSync(join(root, 'k8s')).filter((f) => f.endsWith('.yaml'))) {
    const text = readFileSync(join(root, 'k8s', file), 'utf8');
    const docs = parseAllDocuments(text);
    docs.forEach((doc) => syncK8sDocument(doc, v));
    files.set(join('k8s', file), docs.map((doc) => doc.toString(YAML_OUTPUT)).join('---\n'));
  }
  for (const file of ['Chart.yaml', 'values.yaml']) {
    const path = join('helm', 'sentiment-analysis', file);
    files.set(path, syncChart(path, readFileSync(join(root, path), 'utf8'), v));
  }
  return files;
}

/** Files whose content differs from what the versions in package.json say. */
export function outOfSync(root = REPO_ROOT): string[] {
  const stale: string[] = [];
  for (const [path, content] of expectedFiles(root)) {
    let current = '';
    try {
      current = readFileSync(join(root, path), 'utf8');
    } catch {
      // missing: stale
    }
    if (current !== content) {
      stale.push(path);
    }
  }
  return stale;
}

function main(): void {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(
      [
        'usage: npm run version:sync [-- --check]',
        '  Writes the versions in package.json (version, config.*) into the files that repeat them:',
        ...[...expectedFiles().keys()].map((path) => `    ${path}`),
        '  --check changes nothing and exits 1 listing the files that disagree.',
      ].join('\n'),
    );
    return;
  }
  const problems = servedVersionProblems(readVersions());
  if (problems.length > 0) {
    console.error(`package.json config: ${problems.join('; ')}`);
    process.exit(1);
  }
  if (process.argv.includes('--check')) {
    const stale = outOfSync();
    if (stale.length > 0) {
      console.error(`out of sync with package.json: ${stale.join(', ')} (run npm run version:sync)`);
      process.exit(1);
    }
    console.log('versions in sync');
    return;
  }
  const rewritten = outOfSync();
  for (const [path, content] of expectedFiles()) {
    mkdirSync(dirname(join(REPO_ROOT, path)), { recursive: true });
    writeFileSync(join(REPO_ROOT, path), content);
  }
  console.log(rewritten.length > 0 ? `rewrote ${rewritten.join(', ')}` : 'every file already in sync');
  const v = readVersions();
  console.log(
    `app ${v.app}, model version ${v.model}, TF Serving versions ${v.served.join(', ')} (${Object.entries(v.labels)
      .map(([label, version]) => `${label} ${version}`)
      .join(', ')}), ${v.tfServingImage}, ${v.nodeImage}`,
  );
}

if (process.argv[1]?.endsWith('sync-versions.ts')) {
  main();
}
