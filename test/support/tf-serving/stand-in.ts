import { fileURLToPath } from 'node:url';
import { loadModels } from './model-server.js';
import { TfServingProtocolServer } from './tf-serving-protocol.server.js';

const DEFAULT_MODEL_BASE = fileURLToPath(new URL('../../../models/sentiment_analysis', import.meta.url));

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

/** The protocol server on loopback, serving one model base path as `tensorflow_model_server --model_base_path` would. */
export async function startStandIn(options: StandInOptions = {}): Promise<TfServingProtocolServer> {
  const server = new TfServingProtocolServer();
  loadModels(
    server,
    [
      {
        name: options.modelName ?? 'sentiment_analysis',
        basePath: options.modelBase ?? DEFAULT_MODEL_BASE,
        platform: 'tensorflow',
        versions: undefined,
        ...(options.policy === 'all' ? {} : { latestVersions: 1 }),
        labels: {},
      },
    ],
    { allowVersionLabelsForUnavailableModels: false, ...(options.loadMs ? { loadMs: options.loadMs } : {}) },
  );
  await server.start(options.port ?? 0);
  return server;
}
