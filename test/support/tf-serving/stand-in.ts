import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NestedArray, SavedModelRunner, type SignatureTensor } from '../tfjs-savedmodel.js';
import { type Predictor, type TensorDtype, TfServingProtocolServer } from './tf-serving-protocol.server.js';

const DEFAULT_MODEL_BASE = fileURLToPath(new URL('../../../models/sentiment_analysis', import.meta.url));

function spec(tensors: readonly SignatureTensor[]): Predictor['inputs'] {
  return Object.fromEntries(tensors.map((t) => [t.alias, { dtype: t.dtype as TensorDtype, shape: t.shape ?? [] }]));
}

/** A servable backed by a real `saved_model.pb`, decoded and executed in tfjs. */
export function savedModelPredictor(savedModelPath: string, signatureKey = 'serving_default'): Predictor {
  const runner = SavedModelRunner.fromBytes(readFileSync(savedModelPath), signatureKey);
  return {
    signatureName: runner.signature.key,
    inputs: spec(runner.signature.inputs),
    outputs: spec(runner.signature.outputs),
    predict: (feeds) => runner.predict(feeds as Record<string, NestedArray>) as Record<string, unknown[]>,
  };
}

export interface StandInOptions {
  /** TF Serving's model base path: numeric version folders holding saved_model.pb. */
  readonly modelBase?: string;
  readonly modelName?: string;
  /** TF Serving's default policy serves the latest version only; `all` serves every version. */
  readonly policy?: 'latest' | 'all';
  /** Versions stay LOADING this long before turning AVAILABLE. */
  readonly loadMs?: number;
  readonly port?: number;
}

/** The protocol server serving a model base path the way `tensorflow_model_server --model_base_path` would. */
export async function startStandIn(options: StandInOptions = {}): Promise<TfServingProtocolServer> {
  const base = resolve(options.modelBase ?? DEFAULT_MODEL_BASE);
  const name = options.modelName ?? 'sentiment_analysis';
  const versions = readdirSync(base)
    .filter((entry) => /^\d+$/.test(entry) && existsSync(join(base, entry, 'saved_model.pb')))
    .sort((a, b) => Number(a) - Number(b));
  if (versions.length === 0) {
    throw new Error(`No versions of servable ${name} found under base path ${base}`);
  }
  const server = new TfServingProtocolServer();
  for (const version of options.policy === 'all' ? versions : versions.slice(-1)) {
    server.addVersion(name, String(Number(version)), savedModelPredictor(join(base, version, 'saved_model.pb')), {
      ...(options.loadMs ? { loadMs: options.loadMs } : {}),
    });
  }
  await server.start(options.port ?? 0);
  return server;
}
