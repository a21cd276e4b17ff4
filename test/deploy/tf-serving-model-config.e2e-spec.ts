/**
 * TF Serving's model config (text-format ModelServerConfig), without Docker or a cluster: the file docker compose
 * mounts and the k8s/ ConfigMap parse as the ModelServerConfig TF Serving expects, name the model the API asks for at
 * the path where each deployment puts its version folders, serve only versions that exist in models/<name>/, label
 * only served versions, and serve the version the API pins; docker compose and k8s/ pass the file to TF Serving the
 * same way; npm run version:sync refuses versions that do not fit together.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/index.js';
import { expectedFiles, readVersions, servedVersionProblems } from '../../tools/release/sync-versions.js';
import { containersOf, parseManifests, readManifests, type Manifest } from '../support/k8s-validation.js';
import {
  MODEL_SERVER_CONFIG,
  parseModelServerConfig,
  parseTextProto,
  type ServedModel,
} from '../support/tf-serving/text-proto.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(resolve(ROOT, path), 'utf8');

const CONFIG_FILE = 'tf-serving/models.config';
const CONFIG_FLAG = '--model_config_file=';
/** Labels need this flag at start-up: TF Serving assigns them before any version has loaded (server_core.cc). */
const LABELS_FLAG = '--allow_version_labels_for_unavailable_models=true';

const pkg = JSON.parse(read('package.json')) as {
  config: { modelVersion: string; servedModelVersions: string[]; modelVersionLabels: Record<string, string> };
};
const served = pkg.config.servedModelVersions;

// docker compose, with .env interpolation.
const dotenv = Object.fromEntries(
  read('.env')
    .split('\n')
    .filter((line) => /^\w+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);
const interpolate = (value: string): string =>
  value.replace(/\$\{(\w+)\}/g, (_, name: string) => {
    const found = dotenv[name];
    if (found === undefined) {
      throw new Error(`.env has no ${name}`);
    }
    return found;
  });
interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
}
const compose = parse(read('docker-compose.yml')) as { services: Record<string, ComposeService> };
const composeTf = compose.services['tf-serving']!;
const composeApi = loadConfig(
  Object.fromEntries(
    Object.entries(compose.services.api?.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]),
  ),
);

// k8s/
const k8s = ['api-configmap.yaml', 'tf-serving-configmap.yaml', 'tf-serving-deployment.yaml'].flatMap((file) =>
  readManifests(resolve(ROOT, 'k8s', file)),
);
const k8sOne = (kind: string, name: string): Manifest => {
  const found = k8s.find((m) => m.kind === kind && m.metadata.name === name);
  if (found === undefined) {
    throw new Error(`k8s/ has no ${kind} ${name}`);
  }
  return found;
};
type Container = {
  name: string;
  args?: string[];
  command?: string[];
  env?: unknown[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
};
type PodTemplate = {
  metadata: { annotations?: Record<string, string> };
  spec: { volumes: { name: string; configMap?: { name: string } }[] };
};

const readManifestsText = (text: string): Manifest[] => parseManifests(text, 'version:sync output');

/** Parses the config and returns its only model; the tests below all start here. */
function onlyModel(text: string): ServedModel {
  const models = parseModelServerConfig(text);
  expect(models).toHaveLength(1);
  return models[0]!;
}

describe('TF Serving model config', () => {
  describe('the text-format parser (not vacuous)', () => {
    const ok = `model_config_list { config { name: 'm' base_path: "/models/m" model_platform: "tensorflow"
      model_version_policy { specific { versions: 1 versions: 2 } }
      version_labels { key: "stable" value: 1 } version_labels { key: "canary" value: 2 } } }`;

    it('should read names, paths, versions and labels', () => {
      expect(parseModelServerConfig(ok)).toEqual([
        {
          name: 'm',
          basePath: '/models/m',
          platform: 'tensorflow',
          versions: [1, 2],
          labels: { stable: 1, canary: 2 },
        },
      ]);
      expect(parseModelServerConfig('model_config_list { config { name: "m" } }')[0]!.versions).toBeUndefined();
    });

    it.each([
      ['a misspelt field', ok.replace('model_version_policy', 'model_version_polcy'), /has no field/],
      ['a quoted version', ok.replace('versions: 1', 'versions: "1"'), /int64/],
      ['an unquoted name', ok.replace("name: 'm'", 'name: m'), /string/],
      ['a singular field twice', ok.replace("name: 'm'", "name: 'm' name: 'n'"), /set twice/],
      [
        'two policies of one oneof',
        ok.replace('specific {', 'latest { num_versions: 1 } specific {'),
        /both set \(oneof policy_choice\)/,
      ],
      ['an unclosed message', ok.slice(0, -1), /expected }/],
      ['a label given twice', ok.replace('"canary" value: 2', '"stable" value: 2'), /given twice/],
    ])('should reject %s', (_name, text, error) => {
      expect(() => parseModelServerConfig(text)).toThrow(error);
    });

    it('should take comments, list syntax and separators', () => {
      expect(
        parseTextProto(
          '# c\nmodel_config_list: { config < name: "m"; model_version_policy { specific { versions: [3, 4] } } > }',
          MODEL_SERVER_CONFIG,
        ),
      ).toEqual({
        model_config_list: { config: [{ name: 'm', model_version_policy: { specific: { versions: [3, 4] } } }] },
      });
    });
  });

  describe(CONFIG_FILE, () => {
    const text = read(CONFIG_FILE);

    it('should serve one TensorFlow model under the name the API asks for, with a specific version policy', () => {
      const model = onlyModel(text);
      expect(model.name).toBe(composeApi.tfServing.modelName);
      expect(model.platform).toBe('tensorflow');
      expect(model.basePath).toBe(`/models/${model.name}`);
      expect(model.versions).toBeDefined();
    });

    it('should serve the versions package.json lists, each a version folder of models/<name>/ with a SavedModel', () => {
      const model = onlyModel(text);
      expect(model.versions).toEqual(served.map(Number));
      expect(new Set(model.versions).size).toBe(model.versions!.length);
      expect(model.versions!.length).toBeGreaterThan(0);
      for (const version of model.versions!) {
        expect({
          version,
          savedModel: existsSync(resolve(ROOT, 'models', model.name, String(version), 'saved_model.pb')),
        }).toEqual({
          version,
          savedModel: true,
        });
      }
    });

    it('should label only served versions: stable and canary, as package.json says', () => {
      const model = onlyModel(text);
      expect(model.labels).toEqual(
        Object.fromEntries(Object.entries(pkg.config.modelVersionLabels).map(([k, v]) => [k, Number(v)])),
      );
      expect(Object.keys(model.labels)).toEqual(expect.arrayContaining(['stable', 'canary']));
      for (const [label, version] of Object.entries(model.labels)) {
        expect(label).toMatch(/^[A-Za-z0-9_]+$/);
        expect({ label, served: model.versions!.includes(version) }).toEqual({ label, served: true });
      }
    });

    it('should serve MODEL_VERSION and the version the API pins for v2 (compose and k8s/)', () => {
      const model = onlyModel(text);
      const k8sApi = loadConfig(
        (k8sOne('ConfigMap', 'sentiment-analysis') as Manifest & { data: Record<string, string> }).data,
      );
      for (const version of [
        pkg.config.modelVersion,
        dotenv.MODEL_VERSION,
        composeApi.model.version,
        composeApi.tfServing.version,
        k8sApi.model.version,
        k8sApi.tfServing.version,
      ]) {
        expect(model.versions).toContain(Number(version));
      }
      expect(composeApi.tfServing.label).toBeUndefined();
      expect(k8sApi.tfServing.label).toBeUndefined();
    });
  });

  describe('docker-compose.yml', () => {
    const flag = (composeTf.command ?? []).find((arg) => arg.startsWith(CONFIG_FLAG));
    const configPath = flag?.slice(CONFIG_FLAG.length) ?? '';

    it('should start TF Serving with the model config file (and labels allowed at start), not MODEL_NAME', () => {
      expect(composeTf.command).toEqual([`${CONFIG_FLAG}${configPath}`, LABELS_FLAG]);
      expect(posix.isAbsolute(configPath)).toBe(true);
      // With a config file the entrypoint's --model_name/--model_base_path are ignored: no variable suggests otherwise.
      expect(composeTf.environment).toBeUndefined();
    });

    it('should mount the repository file at the path the flag names, read-only', () => {
      const mount = (composeTf.volumes ?? [])
        .map((v) => v.split(':'))
        .find(([, target]) => target === posix.dirname(configPath));
      expect(mount).toBeDefined();
      const [source, , mode] = mount!;
      expect(mode).toBe('ro');
      expect(resolve(ROOT, source!, posix.basename(configPath))).toBe(resolve(ROOT, CONFIG_FILE));
    });

    it("should mount the model's version folders at the config's base_path, and keep the AVAILABLE healthcheck", () => {
      const model = onlyModel(read(CONFIG_FILE));
      const [source, target] =
        (composeTf.volumes ?? []).map((v) => v.split(':')).find(([, t]) => t === model.basePath) ?? [];
      expect(resolve(ROOT, source ?? '')).toBe(resolve(ROOT, 'models', model.name));
      expect(target).toBe(model.basePath);
      const test = composeTf.healthcheck?.test.join(' ') ?? '';
      expect(test).toContain(`GET /v1/models/${model.name} `);
      expect(test).toContain('"AVAILABLE"');
    });
  });

  describe('k8s/', () => {
    const configMap = k8sOne('ConfigMap', 'sentiment-analysis-tf-serving') as Manifest & {
      data: Record<string, string>;
    };
    const deployment = k8sOne('Deployment', 'sentiment-analysis-tf-serving');
    const template = (deployment.spec as { template: PodTemplate }).template;
    const server = containersOf(deployment).find((c) => c.name === 'tf-serving') as unknown as Container;
    const init = containersOf(deployment).find((c) => c.name === 'model') as unknown as Container;
    const flag = (server.args ?? []).find((arg) => arg.startsWith(CONFIG_FLAG));
    const configPath = flag?.slice(CONFIG_FLAG.length) ?? '';

    it('should hold the same model config as the file docker compose mounts', () => {
      expect(Object.keys(configMap.data)).toEqual([posix.basename(configPath)]);
      expect(configMap.data[posix.basename(configPath)]).toBe(read(CONFIG_FILE));
    });

    it('should start TF Serving with it, mounted read-only from the ConfigMap where the flag points', () => {
      expect(server.args).toEqual([`${CONFIG_FLAG}${configPath}`, LABELS_FLAG]);
      expect(server.command).toBeUndefined();
      expect(server.env).toBeUndefined();
      const mount = server.volumeMounts?.find((m) => m.mountPath === posix.dirname(configPath));
      expect(mount?.readOnly).toBe(true);
      const volume = template.spec.volumes.find((v) => v.name === mount?.name);
      expect(volume?.configMap?.name).toBe(configMap.metadata.name);
    });

    it("should find the version folders at the config's base_path: the init container copies them there", () => {
      const model = onlyModel(configMap.data[posix.basename(configPath)] ?? '');
      expect(init.command?.join(' ')).toContain(`'${model.basePath}'`);
      const models = server.volumeMounts?.find((m) => model.basePath.startsWith(`${m.mountPath}/`));
      expect(init.volumeMounts?.map((m) => `${m.name}:${m.mountPath}`)).toContain(
        `${models?.name}:${models?.mountPath}`,
      );
    });

    it('should roll TF Serving when the config changes (checksum annotation, kept by npm run version:sync)', () => {
      const text = configMap.data[posix.basename(configPath)] ?? '';
      expect(template.metadata.annotations?.['checksum/model-config']).toBe(
        createHash('sha256').update(text).digest('hex'),
      );
    });
  });

  describe('npm run version:sync', () => {
    const versions = readVersions();

    it('should accept the served versions and labels of package.json', () => {
      expect(servedVersionProblems(versions)).toEqual([]);
    });

    it.each([
      ['a label on a version not served', { labels: { ...versions.labels, canary: '99' } }, /canary points at 99/],
      ['a served version without its folder', { served: [...versions.served, '99'] }, /99\/saved_model\.pb/],
      ['MODEL_VERSION not served', { model: '99' }, /modelVersion 99/],
      ['no version', { served: [], labels: {} }, /at least one/],
      ['a version given twice', { served: [...versions.served, ...versions.served] }, /each once/],
    ])('should refuse %s', (_name, change, problem) => {
      expect(servedVersionProblems({ ...versions, ...change }).join('; ')).toMatch(problem);
    });

    it('should write a new version and the canary label everywhere, changing nothing else', () => {
      // A copy of what version:sync reads, with a new version folder, served beside the others as the canary.
      const next = String(Math.max(...served.map(Number)) + 1);
      const root = mkdtempSync(join(tmpdir(), 'version-sync-'));
      try {
        for (const path of [
          'Dockerfile',
          'k8s',
          'helm/sentiment-analysis/Chart.yaml',
          'helm/sentiment-analysis/values.yaml',
        ]) {
          cpSync(resolve(ROOT, path), join(root, path), { recursive: true });
        }
        for (const version of [...served, next]) {
          mkdirSync(join(root, 'models/sentiment_analysis', version), { recursive: true });
          writeFileSync(join(root, 'models/sentiment_analysis', version, 'saved_model.pb'), '');
        }
        const changed = JSON.parse(read('package.json')) as typeof pkg;
        changed.config.servedModelVersions = [...served, next];
        changed.config.modelVersionLabels = { ...pkg.config.modelVersionLabels, canary: next };
        writeFileSync(join(root, 'package.json'), JSON.stringify(changed));
        expect(servedVersionProblems(readVersions(root), root)).toEqual([]);

        const files = expectedFiles(root);
        const text = files.get(CONFIG_FILE)!;
        expect(onlyModel(text)).toMatchObject({
          versions: [...served, next].map(Number),
          labels: { stable: Number(pkg.config.modelVersionLabels.stable), canary: Number(next) },
        });
        const k8sFiles = [...files.keys()].filter((path) => path.startsWith('k8s/'));
        const [configMap] = k8sFiles.flatMap((path) =>
          readManifestsText(files.get(path)!).filter(
            (m) => m.kind === 'ConfigMap' && m.metadata.name.endsWith('-tf-serving'),
          ),
        );
        expect((configMap as Manifest & { data: Record<string, string> }).data['models.config']).toBe(text);
        const deployment = readManifestsText(files.get('k8s/tf-serving-deployment.yaml')!)[0]!;
        expect(
          (deployment.spec as { template: PodTemplate }).template.metadata.annotations?.['checksum/model-config'],
        ).toBe(createHash('sha256').update(text).digest('hex'));
        // values.yaml: only the versions and labels lines differ.
        const before = read('helm/sentiment-analysis/values.yaml').split('\n');
        const after = files.get('helm/sentiment-analysis/values.yaml')!.split('\n');
        expect(after.filter((line) => !before.includes(line))).toEqual([`    - '${next}'`, `    canary: '${next}'`]);
        expect(before.filter((line) => !after.includes(line))).toEqual([
          `    canary: '${pkg.config.modelVersionLabels.canary}'`,
        ]);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  });
});
