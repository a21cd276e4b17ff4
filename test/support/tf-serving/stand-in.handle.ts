import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StandInOptions } from './stand-in.js';
import type { Faults, VersionState } from './tf-serving-protocol.server.js';

type Command =
  | { type: 'faults'; faults: Faults }
  | { type: 'stop' }
  | { type: 'start' }
  | { type: 'unload'; model: string; version: string }
  | { type: 'state'; model: string; version: string; state: VersionState }
  | { type: 'label'; model: string; label: string; version: string }
  | { type: 'requests' };

export type StandInCommand = Command & { id: number };
export interface StandInReply {
  id: number;
  ok: boolean;
  value: unknown;
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
}

const ENTRY = fileURLToPath(new URL('./stand-in.process.ts', import.meta.url));

/** The TF Serving stand-in in a child process, and the test's remote control over it. */
export class StandInProcess {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: StandInReply) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.on('message', (reply: StandInReply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
  }

  static async start(options: StandInOptions = {}): Promise<StandInProcess> {
    const child = fork(ENTRY, [JSON.stringify(options)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.once('message', (reply: StandInReply) =>
        reply.ok ? resolve(String(reply.value)) : reject(new Error(String(reply.value))),
      );
      child.once('exit', (code) => reject(new Error(`TF Serving stand-in exited with ${code}`)));
    });
    return new StandInProcess(child, url);
  }

  setFaults(faults: Faults): Promise<void> {
    return this.call({ type: 'faults', faults }) as Promise<void>;
  }

  /** Stops listening and drops connections (clients get ECONNREFUSED), as when TF Serving crashes. */
  stop(): Promise<void> {
    return this.call({ type: 'stop' }) as Promise<void>;
  }

  /** Listens again on the same port. */
  start(): Promise<void> {
    return this.call({ type: 'start' }) as Promise<void>;
  }

  unload(model: string, version: string): Promise<void> {
    return this.call({ type: 'unload', model, version }) as Promise<void>;
  }

  setState(model: string, version: string, state: VersionState): Promise<void> {
    return this.call({ type: 'state', model, version, state }) as Promise<void>;
  }

  setLabel(model: string, label: string, version: string): Promise<void> {
    return this.call({ type: 'label', model, label, version }) as Promise<void>;
  }

  /** Requests received since the last call. */
  takeRequests(): Promise<RecordedRequest[]> {
    return this.call({ type: 'requests' }) as Promise<RecordedRequest[]>;
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.disconnect();
    await exited;
  }

  private call(command: Command): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (reply) => (reply.ok ? resolve(reply.value) : reject(new Error(String(reply.value)))));
      this.child.send({ ...command, id });
    });
  }
}
