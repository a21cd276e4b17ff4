/**
 * Kubernetes manifests checked against the Kubernetes API's JSON schemas (kubernetes-models), without a cluster:
 * used for k8s/ and, where a helm binary exists, for the chart's rendered output.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** The kubernetes-models module of each kind this project deploys. */
const MODELS: Record<string, string> = {
  'v1/ConfigMap': 'kubernetes-models/v1/ConfigMap',
  'v1/Service': 'kubernetes-models/v1/Service',
  'v1/Pod': 'kubernetes-models/v1/Pod',
  'v1/Secret': 'kubernetes-models/v1/Secret',
  'v1/ServiceAccount': 'kubernetes-models/v1/ServiceAccount',
  'apps/v1/Deployment': 'kubernetes-models/apps/v1/Deployment',
  'autoscaling/v2/HorizontalPodAutoscaler': 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
  'policy/v1/PodDisruptionBudget': 'kubernetes-models/policy/v1/PodDisruptionBudget',
  'networking.k8s.io/v1/NetworkPolicy': 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
};

/** Every YAML document of a file (or text), empty documents dropped; YAML errors throw with the source. */
export function parseManifests(text: string, source: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc, i) => {
      if (doc.errors.length > 0) {
        throw new Error(`${source} document ${i}: ${doc.errors.map((e) => e.message).join('; ')}`);
      }
      return doc.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null && typeof m === 'object');
}

export function readManifests(path: string): Manifest[] {
  return parseManifests(readFileSync(path, 'utf8'), path);
}

/** Validates against the API schema of its apiVersion/kind; throws naming the resource and the problem. */
export async function validateManifest(manifest: Manifest, source: string): Promise<void> {
  const key = `${manifest.apiVersion}/${manifest.kind}`;
  const module = MODELS[key];
  if (module === undefined) {
    throw new Error(`${source}: no schema for ${key} (known: ${Object.keys(MODELS).join(', ')})`);
  }
  const imported = (await import(module)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = imported[manifest.kind];
  if (Model === undefined) {
    throw new Error(`${source}: ${module} exports no ${manifest.kind}`);
  }
  try {
    new Model(manifest).validate();
  } catch (error) {
    throw new Error(`${source}: ${key} ${manifest.metadata?.name}: ${(error as Error).message}`);
  }
}

/** The containers (init containers included) of a workload or pod. */
export function containersOf(manifest: Manifest): { name: string; image: string; [key: string]: unknown }[] {
  const spec = (
    manifest.kind === 'Pod' ? manifest.spec : (manifest.spec as { template?: { spec?: unknown } })?.template?.spec
  ) as { containers?: []; initContainers?: [] } | undefined;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

/** The labels Kubernetes recommends (app.kubernetes.io/*) that every resource here carries. */
export const RECOMMENDED_LABELS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'app.kubernetes.io/component',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/managed-by',
] as const;
