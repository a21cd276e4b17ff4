/**
 * `npm run version:sync [-- --check]`: one place for versions. package.json holds the app version (`version`,
 * also the image tag and the chart's version/appVersion), the model version served (`config.modelVersion`),
 * the TF Serving image and the Node base image (`config.tfServingImage`, `config.nodeImage`). This writes them into
 * .env (read by docker compose), the Dockerfile, k8s/ and the Helm chart, editing YAML with comments kept.
 * `--check` changes nothing and exits 1 listing the files that disagree (a test runs it). `npm version <x>`
 * runs it through the `version` lifecycle script.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, parseAllDocuments, parseDocument, type Document } from 'yaml';
import { REPO_ROOT } from '../common/sst2.js';

interface Versions {
  readonly app: string;
  readonly model: string;
  readonly tfServingImage: string;
  readonly nodeImage: string;
}

export function readVersions(root = REPO_ROOT): Versions {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    version: string;
    config: { modelVersion: string; tfServingImage: string; nodeImage: string };
  };
  return {
    app: pkg.version,
    model: pkg.config.modelVersion,
    tfServingImage: pkg.config.tfServingImage,
    nodeImage: pkg.config.nodeImage,
  };
}

const APP_IMAGE = 'sentiment-analysis';

/** Keep our YAML style: long lines unfolded, `[ALL]` not `[ ALL ]`. */
const YAML_OUTPUT = { lineWidth: 0, flowCollectionPadding: false } as const;

/** Sets the version label everywhere and pins images, in one parsed YAML document. */
function syncK8sDocument(doc: Document, v: Versions): void {
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
  if (process.argv.includes('--check')) {
    const stale = outOfSync();
    if (stale.length > 0) {
      console.error(`out of sync with package.json: ${stale.join(', ')} (run npm run version:sync)`);
      process.exit(1);
    }
    console.log('versions in sync');
    return;
  }
  for (const [path, content] of expectedFiles()) {
    writeFileSync(join(REPO_ROOT, path), content);
  }
  const v = readVersions();
  console.log(`app ${v.app}, model version ${v.model}, ${v.tfServingImage}, ${v.nodeImage}`);
}

if (process.argv[1]?.endsWith('sync-versions.ts')) {
  main();
}
