/**
 * The stand-in's `tensorflow_model_server`: TF Serving's command line (the flags compose, k8s/ and the Helm chart
 * pass, in its `--flag=value` grammar) and its start-up: read the text-format model config (or one model from
 * `--model_name`/`--model_base_path`), choose each model's versions by its version policy, load them, apply the
 * version labels, and only then open the REST port (the real server does not listen while the first load runs).
 *
 * What the real binary does that this does not: gRPC (`--port` is checked, nothing listens on it), file-system
 * polling for new versions, config reloads. Where the real server would wait forever (a `specific` version missing
 * on disk), this one stops with an error, so a broken deployment fails a test instead of hanging it.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { type NestedArray, SavedModelRunner, type SignatureTensor } from '../tfjs-savedmodel.js';
import { parseModelServerConfig, type ServedModel } from './text-proto.js';
import { type Predictor, type TensorDtype, TfServingProtocolServer } from './tf-serving-protocol.server.js';

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

export interface ModelServerFlags {
  /** gRPC port (`--port`, default 8500): checked like the real server does; the stand-in serves no gRPC. */
  readonly grpcPort: number;
  /** `--rest_api_port`; the stand-in's only protocol, so 0 (the real default: REST off) is refused. */
  readonly restApiPort: number;
  readonly modelName: string;
  readonly modelBasePath: string;
  readonly modelConfigFile: string;
  readonly allowVersionLabelsForUnavailableModels: boolean;
}

type FlagKind = 'int' | 'string' | 'bool';
const FLAGS: Readonly<Record<string, { kind: FlagKind; key: keyof ModelServerFlags }>> = {
  port: { kind: 'int', key: 'grpcPort' },
  rest_api_port: { kind: 'int', key: 'restApiPort' },
  model_name: { kind: 'string', key: 'modelName' },
  model_base_path: { kind: 'string', key: 'modelBasePath' },
  model_config_file: { kind: 'string', key: 'modelConfigFile' },
  allow_version_labels_for_unavailable_models: { kind: 'bool', key: 'allowVersionLabelsForUnavailableModels' },
};

export const USAGE = `usage: tensorflow_model_server (TF Serving REST stand-in) [flags]
  --port=8500                                        gRPC port (checked, not served by the stand-in)
  --rest_api_port=8501                               REST port
  --model_name=NAME --model_base_path=PATH           one model, latest version (without --model_config_file)
  --model_config_file=FILE                           text-format ModelServerConfig (model_config_list)
  --allow_version_labels_for_unavailable_models=true labels in the config before their versions have loaded`;

/**
 * Parses TF Serving's flags (`--name=value`; a bool may be given bare). `defaults` fills what is not given; an
 * unknown flag, a bad value or a positional argument is an error, as in the real binary.
 */
export function parseModelServerFlags(
  argv: readonly string[],
  defaults: Partial<ModelServerFlags> = {},
): ModelServerFlags {
  const flags: Record<string, string | number | boolean> = {
    grpcPort: 8500,
    restApiPort: 0,
    modelName: 'default',
    modelBasePath: '',
    modelConfigFile: '',
    allowVersionLabelsForUnavailableModels: false,
    ...defaults,
  };
  for (const arg of argv) {
    const match = /^--?([A-Za-z_][\w]*)(?:=([\s\S]*))?$/.exec(arg);
    const flag = match ? FLAGS[match[1]!] : undefined;
    if (!match || !flag) {
      throw new Error(`Unknown command line flag or argument: ${arg}\n${USAGE}`);
    }
    const value = match[2];
    switch (flag.kind) {
      case 'bool':
        if (value !== undefined && value !== 'true' && value !== 'false') {
          throw new Error(`Illegal value '${value}' for flag --${match[1]} (true or false)`);
        }
        flags[flag.key] = value !== 'false';
        break;
      case 'int':
        if (value === undefined || !/^\d+$/.test(value) || Number(value) > 65535) {
          throw new Error(`Illegal value '${value ?? ''}' for flag --${match[1]} (a port number)`);
        }
        flags[flag.key] = Number(value);
        break;
      case 'string':
        flags[flag.key] = value ?? '';
        break;
    }
  }
  const parsed = flags as unknown as ModelServerFlags;
  if (parsed.restApiPort === 0) {
    throw new Error('--rest_api_port is 0 (REST disabled): the stand-in serves only the REST API');
  }
  if (parsed.restApiPort === parsed.grpcPort) {
    throw new Error(`--port and --rest_api_port must differ (both ${parsed.grpcPort})`);
  }
  if (parsed.modelConfigFile === '' && parsed.modelBasePath === '') {
    throw new Error(`Both server_model_config_file and model_base_path are empty!\n${USAGE}`);
  }
  return parsed;
}

/** The models to serve: the config file's, or the one named by --model_name/--model_base_path. */
export function servedModels(flags: ModelServerFlags): ServedModel[] {
  if (flags.modelConfigFile === '') {
    return [
      {
        name: flags.modelName,
        basePath: flags.modelBasePath,
        platform: 'tensorflow',
        versions: undefined,
        latestVersions: 1,
        labels: {},
      },
    ];
  }
  const models = parseModelServerConfig(readFileSync(flags.modelConfigFile, 'utf8'));
  if (models.length === 0) {
    throw new Error(`${flags.modelConfigFile}: no model in model_config_list`);
  }
  return models;
}

/** Version folders under a base path: children whose name is an integer (`00000123` is version 123). */
export function versionsOnDisk(basePath: string): number[] {
  return readdirSync(basePath)
    .filter((entry) => /^\d+$/.test(entry) && statSync(join(basePath, entry)).isDirectory())
    .map(Number)
    .sort((a, b) => a - b);
}

function folderOf(basePath: string, version: number): string {
  const name = readdirSync(basePath).find((entry) => /^\d+$/.test(entry) && Number(entry) === version);
  return join(basePath, name ?? String(version));
}

/** The versions a model's policy serves from what is on disk. */
export function versionsToServe(model: ServedModel, onDisk: readonly number[]): number[] {
  if (model.versions !== undefined) {
    const missing = model.versions.filter((version) => !onDisk.includes(version));
    if (missing.length > 0) {
      throw new Error(
        `model ${model.name}: version(s) ${missing.join(', ')} of the specific policy not found under ${model.basePath}` +
          ' (the real server would wait for them forever)',
      );
    }
    return [...model.versions].sort((a, b) => a - b);
  }
  if (onDisk.length === 0) {
    throw new Error(
      `No versions of servable ${model.name} found under base path ${model.basePath}. ` +
        "Did you forget to name your leaf directory as a number (eg. '/1/')?",
    );
  }
  return model.latestVersions === undefined ? [...onDisk] : onDisk.slice(-Math.max(1, model.latestVersions));
}

export interface LoadOptions {
  /** Labels in the config are refused unless this is set (at start no version is AVAILABLE yet). */
  readonly allowVersionLabelsForUnavailableModels: boolean;
  /** Versions stay LOADING this long before turning AVAILABLE (tests of the loading states). */
  readonly loadMs?: number;
}

/**
 * Adds each model's versions (chosen by its policy from the version folders on disk) to `server`, then its labels.
 * Returns model name → the versions it serves.
 */
export function loadModels(
  server: TfServingProtocolServer,
  models: readonly ServedModel[],
  options: LoadOptions,
): Map<string, number[]> {
  const served = new Map<string, number[]>();
  for (const model of models) {
    const basePath = resolve(model.basePath);
    if (!existsSync(basePath)) {
      throw new Error(`model ${model.name}: base path ${basePath} does not exist`);
    }
    const versions = versionsToServe(model, versionsOnDisk(basePath));
    for (const version of versions) {
      const savedModel = join(folderOf(basePath, version), 'saved_model.pb');
      if (!existsSync(savedModel)) {
        throw new Error(`model ${model.name} version ${version}: no saved_model.pb in ${folderOf(basePath, version)}`);
      }
      server.addVersion(model.name, String(version), savedModelPredictor(savedModel), {
        ...(options.loadMs ? { loadMs: options.loadMs } : {}),
      });
    }
    for (const [label, version] of Object.entries(model.labels)) {
      if (!options.allowVersionLabelsForUnavailableModels) {
        // The real server's start-up error (tensorflow/serving#1230).
        throw new Error(
          `Failed precondition: Request to assign label to version ${version} of model ${model.name}, which is not ` +
            'currently available for inference (start with --allow_version_labels_for_unavailable_models=true)',
        );
      }
      server.setLabel(model.name, label, String(version));
    }
    served.set(model.name, versions);
  }
  return served;
}

export interface RunningModelServer {
  readonly server: TfServingProtocolServer;
  /** model name → the versions it serves. */
  readonly versions: ReadonlyMap<string, number[]>;
}

/** `tensorflow_model_server`: loads every model, sets the labels, then opens the REST port on all interfaces. */
export async function startModelServer(flags: ModelServerFlags, host = '0.0.0.0'): Promise<RunningModelServer> {
  const models = servedModels(flags);
  const relative = models.find((model) => !isAbsolute(model.basePath));
  if (relative !== undefined && flags.modelConfigFile !== '') {
    throw new Error(`model ${relative.name}: base_path ${relative.basePath} is not an absolute path`);
  }
  const server = new TfServingProtocolServer();
  const versions = loadModels(server, models, flags);
  await server.start(flags.restApiPort, host);
  return { server, versions };
}
