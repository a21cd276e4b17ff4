/**
 * The stand-in's `tensorflow_model_server` command line and start-up (support/tf-serving/model-server.ts): the
 * flags compose, k8s/ and Helm pass, the text-format model config (every version of every policy, every label),
 * and the real server's refusals. The container tests run this same command behind TF Serving's entrypoint.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from './support/app.js';
import { run } from './support/docker.js';
import {
  type ModelServerFlags,
  parseModelServerFlags,
  startModelServer,
  versionsToServe,
} from './support/tf-serving/model-server.js';

const MODEL_DIR = resolve(REPO_ROOT, 'models/sentiment_analysis');
/** The real image's entrypoint flags, then what docker-compose.yml and k8s/ append. */
const ENTRYPOINT = ['--port=8500', '--rest_api_port=8501', '--model_name=model', '--model_base_path=/models/model'];
const DEPLOYED = [
  '--model_config_file=/etc/tf-serving/models.config',
  '--allow_version_labels_for_unavailable_models=true',
];

describe("TF Serving stand-in: tensorflow_model_server's command line", () => {
  it('should take the entrypoint flags and those the deployments append', () => {
    expect(parseModelServerFlags([...ENTRYPOINT, ...DEPLOYED])).toEqual({
      grpcPort: 8500,
      restApiPort: 8501,
      modelName: 'model',
      modelBasePath: '/models/model',
      modelConfigFile: '/etc/tf-serving/models.config',
      allowVersionLabelsForUnavailableModels: true,
    });
    expect(parseModelServerFlags([...ENTRYPOINT, '--allow_version_labels_for_unavailable_models'])).toMatchObject({
      allowVersionLabelsForUnavailableModels: true,
    });
    expect(parseModelServerFlags(ENTRYPOINT)).toMatchObject({ allowVersionLabelsForUnavailableModels: false });
  });

  it.each([
    [
      'an unknown flag',
      [...ENTRYPOINT, '--model_config=/x'],
      /Unknown command line flag or argument: --model_config=\/x/,
    ],
    ['a positional argument', [...ENTRYPOINT, 'serve'], /Unknown command line flag or argument: serve/],
    ['a port that is not a number', ['--rest_api_port=http', '--model_base_path=/m'], /Illegal value 'http'/],
    ['a bool that is not one', [...ENTRYPOINT, '--allow_version_labels_for_unavailable_models=yes'], /Illegal value/],
    ['REST disabled (the binary default)', ['--model_base_path=/m'], /--rest_api_port is 0/],
    ['the same port twice', ['--port=8501', '--rest_api_port=8501', '--model_base_path=/m'], /must differ/],
    ['no model at all', ['--rest_api_port=8501'], /model_base_path are empty/],
  ])('should refuse %s', (_name, argv, error) => {
    expect(() => parseModelServerFlags(argv)).toThrow(error);
  });
});

describe('TF Serving stand-in: version policies', () => {
  const model = { name: 'm', basePath: '/m', platform: 'tensorflow', labels: {} };
  it('should serve the newest version by default, the newest n, all, or the specific ones', () => {
    expect(versionsToServe({ ...model, versions: undefined, latestVersions: 1 }, [1, 2, 3])).toEqual([3]);
    expect(versionsToServe({ ...model, versions: undefined, latestVersions: 2 }, [1, 2, 3])).toEqual([2, 3]);
    expect(versionsToServe({ ...model, versions: undefined }, [1, 2, 3])).toEqual([1, 2, 3]);
    expect(versionsToServe({ ...model, versions: [3, 1] }, [1, 2, 3])).toEqual([1, 3]);
  });

  it('should stop where the real server would wait forever, and name what is missing', () => {
    expect(() => versionsToServe({ ...model, versions: [1, 4] }, [1, 2])).toThrow(/version\(s\) 4 .* not found/);
    expect(() => versionsToServe({ ...model, versions: undefined, latestVersions: 1 }, [])).toThrow(
      /No versions of servable m found under base path \/m/,
    );
  });
});

describe('TF Serving stand-in: start-up from a model config', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'model-server-'));
    // Two versions (one folder name zero-padded, as TF Serving allows) and a folder that is not a version.
    mkdirSync(join(work, 'm'));
    symlinkSync(join(MODEL_DIR, '1'), join(work, 'm', '1'));
    symlinkSync(join(MODEL_DIR, '1'), join(work, 'm', '0002'));
    mkdirSync(join(work, 'm', 'notes'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const config = (policy: string, labels: Record<string, number>) =>
    `model_config_list { config { name: "m" base_path: "${join(work, 'm')}" model_platform: "tensorflow"
       ${policy} ${Object.entries(labels)
         .map(([key, value]) => `version_labels { key: "${key}" value: ${value} }`)
         .join(' ')} } }`;
  const flags = (text: string, allowLabels = true): ModelServerFlags => {
    const file = join(work, `models-${Math.random().toString(36).slice(2)}.config`);
    writeFileSync(file, text);
    return parseModelServerFlags([
      ...ENTRYPOINT.filter((flag) => !flag.startsWith('--rest_api_port')),
      '--rest_api_port=1',
      `--model_config_file=${file}`,
      `--allow_version_labels_for_unavailable_models=${allowLabels}`,
    ]);
  };
  const started = async (f: ModelServerFlags) => startModelServer({ ...f, restApiPort: 0 }, '127.0.0.1');

  it('should serve every version listed and resolve every label, once the port opens', async () => {
    const { server, versions } = await started(
      flags(config('model_version_policy { all {} }', { stable: 1, canary: 2 })),
    );
    try {
      expect(versions).toEqual(new Map([['m', [1, 2]]]));
      const status = (await (await fetch(`${server.url}/v1/models/m`)).json()) as {
        model_version_status: { version: string; state: string }[];
      };
      expect(status.model_version_status.map((s) => [s.version, s.state]).sort()).toEqual([
        ['1', 'AVAILABLE'],
        ['2', 'AVAILABLE'],
      ]);
      for (const [label, version] of [
        ['stable', '1'],
        ['canary', '2'],
      ]) {
        const metadata = (await (await fetch(`${server.url}/v1/models/m/labels/${label}/metadata`)).json()) as {
          model_spec: { version: string };
        };
        expect({ label, version: metadata.model_spec.version }).toEqual({ label, version });
      }
    } finally {
      await server.stop();
    }
  });

  it("should read the repository's own model config (tf-serving/models.config) with the base path moved", async () => {
    const text = readFileSync(resolve(REPO_ROOT, 'tf-serving/models.config'), 'utf8').replace(
      /base_path: "[^"]*"/,
      `base_path: "${join(work, 'm')}"`,
    );
    const { server, versions } = await started(flags(text));
    await server.stop();
    expect(versions.get('sentiment_analysis')).toEqual([1]);
  });

  it('should refuse labels at start without --allow_version_labels_for_unavailable_models, as the real server does', async () => {
    await expect(started(flags(config('', { stable: 1 }), false))).rejects.toThrow(
      /Failed precondition: Request to assign label to version 1 of model m, which is not currently available/,
    );
  });

  it('should refuse a relative base_path and a missing one', async () => {
    await expect(started(flags('model_config_list { config { name: "m" base_path: "m" } }'))).rejects.toThrow(
      /not an absolute path/,
    );
    await expect(
      started(flags(`model_config_list { config { name: "m" base_path: "${join(work, 'gone')}" } }`)),
    ).rejects.toThrow(/does not exist/);
  });

  it('should exit 1 with the reason and the usage when the command line is wrong', async () => {
    const result = await run(
      process.execPath,
      [resolve(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), 'test/support/tf-serving/serve.ts', '--rest_api_port=x'],
      { timeoutMs: 60_000 },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Failed to start server. Error: Illegal value 'x' for flag --rest_api_port/);
  }, 70_000);
});
