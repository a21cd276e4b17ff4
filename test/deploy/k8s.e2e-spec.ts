/**
 * k8s/ without a cluster: every manifest validates against the Kubernetes API schemas, and what the manifests
 * say about the app (port, probe paths, environment variables, model location, TF Serving URL) is what the app
 * and the repository really have.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { parse } from 'yaml';
import { envSchema, loadConfig } from '../../src/config/index.js';
import { REPO_ROOT, startApp } from '../support/app.js';
import { run } from '../support/docker.js';
import {
  type Manifest,
  RECOMMENDED_LABELS,
  containersOf,
  parseManifests,
  readManifests,
  validateManifest,
} from '../support/k8s-validation.js';
import { describeWhere, findOnPath } from '../support/tools.js';

const K8S = resolve(REPO_ROOT, 'k8s');
const pkg = JSON.parse(readFileSync(resolve(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  config: { modelVersion: string; tfServingImage: string };
};
const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const manifests = files.flatMap((file) => readManifests(join(K8S, file)).map((m) => ({ file, m })));
const find = (kind: string, name: string): Manifest => {
  const found = manifests.find(({ m }) => m.kind === kind && m.metadata.name === name)?.m;
  if (!found) {
    throw new Error(`no ${kind} ${name} in k8s/`);
  }
  return found;
};

type Probe = {
  httpGet?: { path: string; port: string | number };
  tcpSocket?: { port: string };
  exec?: { command: string[] };
};
type Container = {
  name: string;
  image: string;
  ports?: { name: string; containerPort: number }[];
  envFrom?: { configMapRef: { name: string } }[];
  env?: { name: string; value: string }[];
  args?: string[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
  command?: string[];
  volumeMounts?: { name: string; mountPath: string }[];
};
type PodSpec = { securityContext?: { runAsNonRoot?: boolean; runAsUser?: number }; volumes?: { name: string }[] };
const podSpec = (m: Manifest) => (m.spec as { template: { spec: PodSpec } }).template.spec;

const api = find('Deployment', 'sentiment-analysis');
const apiContainer = containersOf(api).find((c) => c.name === 'api') as unknown as Container;
const configMap = find('ConfigMap', 'sentiment-analysis') as Manifest & { data: Record<string, string> };
const tfServing = find('Deployment', 'sentiment-analysis-tf-serving');
const tfServingService = find('Service', 'sentiment-analysis-tf-serving') as Manifest & {
  spec: { ports: { name: string; port: number }[] };
};

describe('k8s/ manifests', () => {
  it.each(manifests.map(({ file, m }) => [`${file}: ${m.kind} ${m.metadata.name}`, file, m] as const))(
    'should validate against the Kubernetes API schema: %s',
    async (_, file, manifest) => {
      await expect(validateManifest(manifest, file)).resolves.toBeUndefined();
    },
  );

  it('should list every manifest in kustomization.yaml and pin the app image by version', () => {
    const kustomization = parse(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')) as {
      resources: string[];
      images: { name: string; newTag: string }[];
    };
    expect([...kustomization.resources].sort()).toEqual([...files].sort());
    expect(kustomization.images).toEqual([{ name: 'sentiment-analysis', newTag: pkg.version }]);
  });

  it('should carry the recommended app.kubernetes.io labels, version from package.json', () => {
    for (const { file, m } of manifests) {
      for (const label of RECOMMENDED_LABELS) {
        expect({ file, label, value: m.metadata.labels?.[label] }).toEqual({ file, label, value: expect.any(String) });
      }
      expect(m.metadata.labels?.['app.kubernetes.io/version']).toBe(pkg.version);
    }
  });

  it('should use images by version tag, never latest', () => {
    for (const { m } of manifests) {
      for (const container of containersOf(m)) {
        expect(container.image).toMatch(/^[^:]+:(?!latest$)[\w.-]+$/);
      }
    }
    expect(containersOf(tfServing).find((c) => c.name === 'tf-serving')?.image).toBe(pkg.config.tfServingImage);
  });

  it('should configure the API with variables the app reads and values it accepts', () => {
    const known = new Set(Object.keys(envSchema.shape));
    expect(Object.keys(configMap.data).filter((k) => !known.has(k))).toEqual([]);
    const config = loadConfig(configMap.data);
    expect(config.model.version).toBe(pkg.config.modelVersion);
    expect(config.tfServing.version).toBe(config.model.version);
    expect(apiContainer.envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }]);
    expect(apiContainer.ports).toEqual([{ name: 'http', containerPort: config.server.port, protocol: 'TCP' }]);
  });

  it('should find the model version it configures in the image (the repository models/ folder)', () => {
    const { model } = loadConfig(configMap.data);
    expect(model.dir).toBe('/app/models/sentiment_analysis');
    const inRepo = resolve(REPO_ROOT, 'models/sentiment_analysis', model.version ?? '');
    for (const file of ['config.json', 'tokenizer.json', 'model.onnx', 'saved_model.pb']) {
      expect(existsSync(join(inRepo, file))).toBe(true);
    }
  });

  it('should point the API at the TF Serving Service by name, port and model name', () => {
    const { tfServing: tf } = loadConfig(configMap.data);
    const url = new URL(tf.url);
    expect(url.hostname).toBe(tfServingService.metadata.name);
    expect(Number(url.port)).toBe(tfServingService.spec.ports.find((p) => p.name === 'rest')?.port);
    const server = containersOf(tfServing).find((c) => c.name === 'tf-serving') as unknown as Container;
    // The model config names the model (tf-serving-model-config.e2e-spec.ts parses it): the one the API asks for.
    expect(server.args?.[0]).toBe('--model_config_file=/etc/tf-serving/models.config');
    const modelConfig = find('ConfigMap', 'sentiment-analysis-tf-serving') as Manifest & {
      data: Record<string, string>;
    };
    expect(modelConfig.data['models.config']).toContain(`name: "${tf.modelName}"`);
    expect(server.readinessProbe?.exec?.command.join(' ')).toContain(`GET /v1/models/${tf.modelName} `);
    expect(server.readinessProbe?.exec?.command.join(' ')).toContain('"AVAILABLE"');
  });

  it('should deliver the model to TF Serving from the API image, without a manual copy', () => {
    const init = containersOf(tfServing).find((c) => c.name === 'model') as unknown as Container;
    expect(init.image).toBe(apiContainer.image);
    const { model, tfServing: tf } = loadConfig(configMap.data);
    expect(init.command?.join(' ')).toContain(`'${model.dir}', '/models/${tf.modelName}'`);
    const mounts = (c: Container) => c.volumeMounts?.map((v) => `${v.name}:${v.mountPath}`);
    const server = containersOf(tfServing).find((c) => c.name === 'tf-serving') as unknown as Container;
    expect(mounts(init)).toContain('models:/models');
    expect(mounts(server)).toContain('models:/models');
  });

  it('should run every container non-root with a read-only root filesystem, no privilege escalation and resources set', () => {
    for (const workload of [api, tfServing]) {
      const spec = podSpec(workload);
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      for (const container of containersOf(workload) as unknown as Container[]) {
        expect(container.securityContext).toMatchObject({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.resources?.requests).toBeDefined();
        expect(container.resources?.limits?.memory).toBeDefined();
      }
    }
  });

  it('should let the HPA, PDB and Services find the Deployments', () => {
    const hpa = find('HorizontalPodAutoscaler', 'sentiment-analysis') as Manifest & {
      spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number };
    };
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: api.metadata.name });
    expect((api.spec as { replicas?: number }).replicas).toBeUndefined();
    const podLabels = (m: Manifest) =>
      (m.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    const pdb = find('PodDisruptionBudget', 'sentiment-analysis') as Manifest & {
      spec: { selector: { matchLabels: Record<string, string> } };
    };
    expect(podLabels(api)).toMatchObject(pdb.spec.selector.matchLabels);
    expect(hpa.spec.minReplicas).toBeGreaterThan(1);
    for (const [service, workload] of [
      [find('Service', 'sentiment-analysis'), api],
      [tfServingService, tfServing],
    ] as const) {
      expect(podLabels(workload)).toMatchObject((service.spec as { selector: Record<string, string> }).selector);
    }
  });

  describe('probes against the real app', () => {
    let app: NestFastifyApplication;
    beforeAll(async () => {
      app = await startApp();
    });
    afterAll(async () => {
      await app.close();
    });

    it('should probe routes the app serves, on its port: startup and liveness on /health/live, readiness on /health/ready', async () => {
      expect(apiContainer.startupProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(apiContainer.livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(apiContainer.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      for (const probe of [apiContainer.startupProbe, apiContainer.livenessProbe, apiContainer.readinessProbe]) {
        await request(app.getHttpServer()).get(probe!.httpGet!.path).expect(200);
      }
    });
  });
});

const KUBECTL = findOnPath('kubectl');
describeWhere(
  KUBECTL === undefined ? 'kubectl not found on PATH (../shared/tools/helm-kubectl DIR installs it)' : undefined,
  'kubectl kustomize k8s/ (what kubectl apply -k deploys)',
  () => {
    it('should render exactly the manifests the tests above check, each valid', async () => {
      const rendered = await run(KUBECTL!, ['kustomize', K8S], { timeoutMs: 60_000 });
      expect(rendered.stderr).toBe('');
      const kustomized = parseManifests(rendered.stdout, 'kubectl kustomize k8s/');
      const key = (m: Manifest) => `${m.kind}/${m.metadata.name}`;
      expect(kustomized.map(key).sort()).toEqual(manifests.map(({ m }) => key(m)).sort());
      for (const manifest of kustomized) {
        expect(manifest).toEqual(manifests.find(({ m }) => key(m) === key(manifest))!.m);
        await validateManifest(manifest, `kubectl kustomize k8s/: ${key(manifest)}`);
      }
    }, 70_000);
  },
);
