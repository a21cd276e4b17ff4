/** Child processes under test: started, timed to readiness, sampled for memory, stopped. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { productionCommand } from '../../tools/release/production-command.js';

export interface Running {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** Process start to the readiness URL answering 200 (ms). */
  readonly coldStartMs: number;
  /** Peak resident memory so far (VmHWM, MB); Linux only, null elsewhere. */
  peakRssMb(): number | null;
  /** CPU time the process has used so far, all threads (user + system, ms); Linux only, null elsewhere. */
  cpuMs(): number | null;
  stop(): Promise<void>;
}

/** Arguments after `node` of the production command, package.json's `start:prod` (V8 flags, then dist/main.js). */
export function serviceArgs(): string[] {
  return productionCommand().command.slice(1);
}

/** The environment settings `start:prod` puts before `node` (MALLOC_ARENA_MAX). */
export function serviceEnv(): Record<string, string> {
  return productionCommand().env;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

/** utime + stime from /proc/<pid>/stat, in ms (clock ticks of 10 ms, the Linux default USER_HZ). */
function cpuTime(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

function peakRss(pid: number | undefined): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Spawns `command args` with `env` (PORT is set to a free port) and waits until GET `readyPath` answers 200.
 * `readyPath` null: waits for the child to print "ready" on stdout instead.
 */
export async function start(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  readyPath: string | null,
  timeoutMs = 60_000,
): Promise<Running> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let printedReady = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output = (output + chunk).slice(-4000);
    printedReady ||= /^ready$/m.test(output);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-4000)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`${name} exited with ${child.exitCode}: ${output}`);
    }
    if (
      readyPath === null
        ? printedReady
        : await fetch(`${url}${readyPath}`).then(
            (r) => r.ok,
            () => false,
          )
    ) {
      break;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready within ${timeoutMs} ms: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const coldStartMs = performance.now() - started;
  return {
    name,
    url,
    child,
    coldStartMs,
    peakRssMb: () => peakRss(child.pid),
    cpuMs: () => cpuTime(child.pid),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const stopped = await Promise.race([
          exited.then(() => true),
          new Promise((resolve) => (timer = setTimeout(() => resolve(false), 30_000))),
        ]);
        clearTimeout(timer);
        if (!stopped) {
          console.error(`[bench] ${name} did not exit within 30 s of SIGTERM; killing it. Output: ${output}`);
          child.kill('SIGKILL');
        }
      }
    },
  };
}
