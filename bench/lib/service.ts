/** This service as the benchmarks start it: the built dist/ with production's command, bench settings on top. */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { REPO_ROOT } from '../../tools/common/sst2.js';
import { type Running, serviceArgs, serviceEnv, start } from './processes.js';

export const NODE = process.execPath;
export const MODEL_DIR = resolve(REPO_ROOT, 'models/sentiment_analysis');
export const ROUTE_V1 = '/v1/inference/sentiment_analysis';

/** How the service is started: production's command (package.json start:prod) unless a run says otherwise. */
export interface ServiceCommand {
  /** Arguments after `node`: V8 flags, then dist/main.js. */
  readonly args: readonly string[];
  readonly env: Record<string, string>;
}

export const PRODUCTION: ServiceCommand = { args: serviceArgs(), env: serviceEnv() };

/** Compiles src/ into dist/ (what `start:prod` runs). */
export function buildDist(): void {
  execFileSync(NODE, [resolve(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
}

/** The built service on a free port, bench settings on top of `env`; ready once /health/ready answers 200. */
export function startService(
  name: string,
  env: Record<string, string> = {},
  command: ServiceCommand = PRODUCTION,
  nodeFlags: readonly string[] = [],
): Promise<Running> {
  return start(
    name,
    NODE,
    [...nodeFlags, ...command.args],
    { ...command.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', MODEL_DIR, ...env },
    '/health/ready',
  );
}

/** Runs `body` with the started process, and stops it afterwards whatever happens. */
export async function withProcess<T>(running: Promise<Running>, body: (r: Running) => Promise<T>): Promise<T> {
  const r = await running;
  try {
    return await body(r);
  } finally {
    await r.stop();
  }
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
