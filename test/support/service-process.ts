import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { productionCommand } from '../../tools/release/production-command.js';
import { REPO_ROOT } from './app.js';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  return typeof address === 'object' && address ? address.port : 0;
}

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** stdout lines so far (JSON logs). */
  readonly lines: string[];
  readonly stderr: string[];
  exited: Promise<number | null>;
}

/** The production environment settings and command (package.json's `start:prod`; the Dockerfile's ENV and CMD). */
export const { env: SERVICE_ENV, command: SERVICE_COMMAND } = productionCommand();

/** The service as the container runs it (SERVICE_COMMAND), with `env` on top of a minimal environment. */
export function spawnService(env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, SERVICE_COMMAND.slice(1), {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...SERVICE_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  let buffer = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts.filter((line) => line.length > 0));
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, url: `http://127.0.0.1:${env.PORT ?? '5001'}`, lines, stderr, exited };
}

/** Polls `path` until it answers `status` (or fails after `timeoutMs`). */
export async function waitFor(url: string, status = 200, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status === status) {
        return;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms`);
    }
    await new Promise((done) => setTimeout(done, 50));
  }
}
