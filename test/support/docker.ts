/**
 * Docker for the deployment tests: a command runner that keeps the output, the project's image and the TF Serving
 * stand-in image built the way users build them (`docker build --network host`: RUN steps reach the npm registry
 * where no image registry is reachable).
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { TENSORFLOW_PROTO_PATH } from '../../tools/export/tf/tensorflow-proto.js';
import { REPO_ROOT } from './app.js';

export interface Completed {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs `command args` to its end (or `timeoutMs`, then SIGKILL); never throws for a non-zero exit. */
export function run(
  command: string,
  args: readonly string[],
  options: { timeoutMs?: number; cwd?: string; env?: Record<string, string> } = {},
): Promise<Completed> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** `docker args`; a non-zero exit throws with docker's own message. */
export async function docker(args: readonly string[], timeoutMs = 120_000): Promise<string> {
  const result = await run('docker', args, { timeoutMs });
  if (result.code !== 0) {
    throw new Error(
      `docker ${args.join(' ')} exited with ${result.code}:\n${(result.stderr || result.stdout).slice(-4000)}`,
    );
  }
  return result.stdout.trim();
}

const pkg = JSON.parse(readFileSync(resolve(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  config: { nodeImage: string };
};
export const NODE_IMAGE = pkg.config.nodeImage;
export const APP_VERSION = pkg.version;

/** Builds the project's Dockerfile, as it is, from the repository; returns the build time. */
export async function buildServiceImage(tag: string): Promise<number> {
  const started = performance.now();
  await docker(['build', '--network', 'host', '-t', tag, '.'], 15 * 60_000);
  return performance.now() - started;
}

const STAND_IN_DIR = resolve(REPO_ROOT, 'test/support/tf-serving');

/**
 * The TF Serving REST stand-in as an image that starts like tensorflow/serving (its entrypoint script, flags,
 * environment and ports): serve.ts bundled by esbuild into one file (tfjs included), on the project's Node base image.
 */
export async function buildStandInImage(tag: string): Promise<number> {
  const started = performance.now();
  const context = mkdtempSync(join(tmpdir(), 'tf-serving-stand-in-'));
  try {
    // esbuild's bin is a Node script or, once its install script has run, the native binary: run it either way.
    const bundle = await run(
      resolve(REPO_ROOT, 'node_modules/.bin/esbuild'),
      [
        join(STAND_IN_DIR, 'serve.ts'),
        '--bundle',
        '--platform=node',
        // One copy of tfjs-core: its CommonJS build for every importer (the backend registers itself with it).
        '--main-fields=main,module',
        // tfjs' sideEffects lists omit those CommonJS files; keep its side-effect imports (backend registration).
        '--ignore-annotations',
        '--format=esm',
        `--target=node${process.versions.node.split('.')[0]}`,
        `--outfile=${join(context, 'tensorflow_model_server.mjs')}`,
        // tfjs still calls require() in places; give the ES module one.
        "--banner:js=import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        '--log-level=warning',
      ],
      { timeoutMs: 120_000 },
    );
    if (bundle.code !== 0) {
      throw new Error(`esbuild failed:\n${bundle.stderr}`);
    }
    for (const file of ['Dockerfile', 'tf_serving_entrypoint.sh', 'tensorflow_model_server']) {
      copyFileSync(join(STAND_IN_DIR, 'image', file), join(context, file));
      chmodSync(join(context, file), 0o755);
    }
    // The SavedModel decoder reads TensorFlow's message definitions beside the bundle at run time.
    copyFileSync(TENSORFLOW_PROTO_PATH, join(context, basename(TENSORFLOW_PROTO_PATH)));
    await docker(['build', '--build-arg', `NODE_IMAGE=${NODE_IMAGE}`, '-t', tag, context], 10 * 60_000);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return performance.now() - started;
}

/** Size in bytes of a local image (`docker image inspect`). */
export async function imageSize(image: string): Promise<number> {
  return Number(await docker(['image', 'inspect', '--format', '{{.Size}}', image]));
}

/** Polls `probe` every `everyMs` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms`);
    }
    await new Promise((wake) => setTimeout(wake, everyMs));
  }
}
