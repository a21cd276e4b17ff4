/**
 * docker-compose.yml and the Dockerfile without a Docker engine: what they reference exists in the repository
 * and agrees with the app's configuration names, and the image is built the way the deployment issue asks.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { envSchema, loadConfig } from '../../src/config/index.js';
import { major, minVersion, satisfies } from 'semver';
import { expectedFiles, outOfSync, readVersions } from '../../tools/release/sync-versions.js';
import { REPO_ROOT } from '../support/app.js';
import { run } from '../support/docker.js';
import { SERVICE_COMMAND, SERVICE_ENV } from '../support/service-process.js';

interface ComposeService {
  image: string;
  command?: string[];
  build?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  read_only?: boolean;
  cap_drop?: string[];
}

const dotenv = Object.fromEntries(
  readFileSync(resolve(REPO_ROOT, '.env'), 'utf8')
    .split('\n')
    .filter((line) => /^\w+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);
/** `${VAR}` interpolation as docker compose does it from .env (no defaults used in our file). */
const interpolate = (value: string) =>
  value.replace(/\$\{(\w+)\}/g, (_, name: string) => {
    if (!(name in dotenv)) {
      throw new Error(`docker-compose.yml uses \${${name}}, which .env does not define`);
    }
    return dotenv[name] as string;
  });
const compose = parse(readFileSync(resolve(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
};
const versions = readVersions();
const pkg = JSON.parse(readFileSync(resolve(REPO_ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  engines: { node: string };
};

describe('docker-compose.yml', () => {
  const api = compose.services.api!;
  const tf = compose.services['tf-serving']!;
  const env = Object.fromEntries(Object.entries(api.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));

  it('should run the API and a version-pinned TF Serving', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'tf-serving']);
    expect(interpolate(tf.image)).toBe(versions.tfServingImage);
    expect(interpolate(tf.image)).toMatch(/^tensorflow\/serving:\d+\.\d+\.\d+$/);
    expect(interpolate(api.image)).toBe(`sentiment-analysis:${versions.app}`);
    expect(api.build).toBe('.');
  });

  it('should configure the API only with variables the app reads, and values it accepts', () => {
    const known = new Set(Object.keys(envSchema.shape));
    expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
    const config = loadConfig(env);
    expect(api.ports).toEqual([`${config.server.port}:${config.server.port}`]);
    expect(config.model.version).toBe(versions.model);
    expect(config.tfServing.version).toBe(config.model.version);
  });

  it('should mount the repository model folder where TF Serving looks for it, with the configured version in it', () => {
    const config = loadConfig(env);
    const [source, target] = (tf.volumes?.[0] ?? '').split(':');
    expect(target).toBe(`/models/${config.tfServing.modelName}`);
    // Model name, base path and versions come from the model config file (tf-serving-model-config.e2e-spec.ts).
    expect(tf.command?.[0]).toMatch(/^--model_config_file=\//);
    const versionDir = join(resolve(REPO_ROOT, source!), config.model.version ?? '');
    expect(existsSync(join(versionDir, 'saved_model.pb'))).toBe(true);
    expect(existsSync(join(versionDir, 'variables', 'variables.index'))).toBe(false);
  });

  it("should point the API at TF Serving's REST port and start it only once the model is AVAILABLE", () => {
    const url = new URL(loadConfig(env).tfServing.url);
    expect(url.hostname).toBe('tf-serving');
    expect(tf.ports).toContain(`${url.port}:${url.port}`);
    expect(tf.healthcheck?.test.join(' ')).toContain(`GET /v1/models/${loadConfig(env).tfServing.modelName} `);
    expect(tf.healthcheck?.test.join(' ')).toContain('"AVAILABLE"');
    expect(api.depends_on).toEqual({ 'tf-serving': { condition: 'service_healthy' } });
    expect(api.healthcheck?.test.join(' ')).toContain('/health/ready');
  });

  it('should run the API with a read-only root filesystem and no capabilities', () => {
    expect(api.read_only).toBe(true);
    expect(api.cap_drop).toEqual(['ALL']);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(resolve(REPO_ROOT, 'Dockerfile'), 'utf8');
  const lines = dockerfile.split('\n').filter((line) => line.trim() && !line.trim().startsWith('#'));
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1)!;

  it('should pin its base image by version, glibc (Debian), never latest', () => {
    expect(dockerfile).toMatch(new RegExp(`^ARG NODE_IMAGE=${versions.nodeImage.replace(/\./g, '\\.')}$`, 'm'));
    expect(versions.nodeImage).toMatch(/^node:\d+\.\d+\.\d+-(bookworm|bullseye)(-slim)?$/);
    expect(lines.filter((l) => l.startsWith('FROM')).every((l) => l.includes('${NODE_IMAGE}'))).toBe(true);
    expect(dockerfile).not.toMatch(/:latest\b/);
  });

  it('should be multi-stage, with a runtime stage that copies only what the service runs', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const copies = runtime.split('\n').filter((l) => l.startsWith('COPY'));
    const sources = copies.map((l) => l.replace(/^COPY (--from=\w+ )?/, '').split(' ')[0]);
    expect(sources.sort()).toEqual(['/app/dist', '/app/node_modules', '/app/package.json', 'models']);
    // --workspaces=false: the model toolchain (the tools/ workspace) and its dependencies stay out of the image.
    expect(stages[0]).toContain('npm prune --omit=dev --workspaces=false');
    expect(stages[0]).toContain('tools/docker/prune-node-modules.mjs');
  });

  it('should run as a non-root user, with node as PID 1 and a HEALTHCHECK on the liveness path', () => {
    expect(runtime).toMatch(/^USER node$/m);
    const cmd = /^CMD (\[.*\])$/m.exec(runtime)?.[1];
    expect(JSON.parse(cmd ?? 'null')).toEqual(SERVICE_COMMAND);
    expect(SERVICE_COMMAND).toEqual([
      'node',
      '--max-semi-space-size=16',
      '--initial-old-space-size=32',
      'dist/main.js',
    ]);
    // start:prod's environment settings are the runtime stage's ENV too.
    expect(SERVICE_ENV).toEqual({ MALLOC_ARENA_MAX: '2' });
    for (const [name, value] of Object.entries(SERVICE_ENV)) {
      expect(runtime).toMatch(new RegExp(`^\\s+${name}=${value}$`, 'm'));
    }
    expect(runtime).toMatch(/^HEALTHCHECK .*\n?.*\/health\/live/m);
    expect(runtime).not.toMatch(/^(ENTRYPOINT|CMD) .*npm/m);
  });

  it('should build with the frontend built into Docker: no # syntax line (it pulls an image from a registry)', () => {
    expect(dockerfile).not.toMatch(/^#\s*syntax\s*=/im);
  });

  it("should resolve the build stage's production-only install (npm prune --omit=dev) without a conflict", async () => {
    // `npm ci` accepts a lockfile that `npm prune` then refuses (ERESOLVE on a peer dependency): the dry run
    // resolves the tree exactly as the build stage's prune does, without changing node_modules.
    const prune = await run(
      'npm',
      ['prune', '--omit=dev', '--workspaces=false', '--ignore-scripts', '--dry-run', '--no-audit', '--no-fund'],
      { timeoutMs: 120_000 },
    );
    expect({ code: prune.code, errors: prune.stderr.split('\n').filter((l) => /npm error/.test(l)) }).toEqual({
      code: 0,
      errors: [],
    });
  }, 130_000);

  it('should send the build only what it copies (.dockerignore allow-list)', () => {
    const ignore = readFileSync(resolve(REPO_ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignore[ignore.findIndex((l) => !l.startsWith('#') && l.trim())]).toBe('*');
    for (const path of [
      'package.json',
      'package-lock.json',
      'src/',
      'models/',
      'tools/docker/prune-node-modules.mjs',
      'tools/package.json',
    ]) {
      expect(ignore).toContain(`!${path}`);
    }
  });
});

describe('versions', () => {
  it('should come from package.json everywhere (npm run version:sync -- --check)', () => {
    expect(outOfSync()).toEqual([]);
  });

  it("should stage every file version:sync writes in npm's version script", () => {
    const staged = /git add (.+)$/.exec(pkg.scripts.version ?? '')?.[1]?.split(' ') ?? [];
    const unstaged = [...expectedFiles().keys()].filter(
      (file) => !staged.some((path) => file === path || file.startsWith(`${path}/`)),
    );
    expect(unstaged).toEqual([]);
  });

  it("should run the image on a Node that the project's and every installed package's engines accept", () => {
    const node = /^node:(\d+\.\d+\.\d+)-/.exec(versions.nodeImage)![1]!;
    const lock = JSON.parse(readFileSync(resolve(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { engines?: { node?: string }; os?: string[] }>;
    };
    // Packages for another OS (sharp's win32 builds) are never installed on the image's Linux.
    const refusing = Object.entries(lock.packages)
      .filter(([, entry]) => !entry.os || entry.os.includes('linux'))
      .filter(([, entry]) => entry.engines?.node && !satisfies(node, entry.engines.node))
      .map(([path, entry]) => `${path || 'package.json'} wants ${entry.engines!.node}`);
    expect(refusing).toEqual([]);
    expect(major(node)).toBe(minVersion(pkg.engines.node)!.major);
  });
});
