/**
 * A stand-in for TensorFlow Serving's REST API, for tests and local development where neither TensorFlow nor TF
 * Serving can run. It serves real SavedModels (decoded and executed with tfjs through a `Predictor`) at TF
 * Serving's URLs, with TF Serving's request rules, response shapes, status JSON and error bodies/codes
 * (../shared/reference/tf-serving-and-savedmodel.md §1), model version states, and injectable faults.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type TensorDtype = 'DT_INT64' | 'DT_INT32' | 'DT_FLOAT';

/** A loaded servable: its serving signature and a function that runs it. */
export interface Predictor {
  readonly signatureName: string;
  readonly inputs: Readonly<Record<string, { readonly dtype: TensorDtype; readonly shape: readonly number[] }>>;
  readonly outputs: Readonly<Record<string, { readonly dtype: TensorDtype; readonly shape: readonly number[] }>>;
  /** Batched feeds (one `[batch, ...]` nested array per input) → one nested array per output. */
  predict(feeds: Record<string, unknown[]>): Record<string, unknown[]>;
}

export type VersionState = 'START' | 'LOADING' | 'AVAILABLE' | 'UNLOADING' | 'END';

interface Version {
  state: VersionState;
  predictor: Predictor | null;
  error?: string;
}

/** Faults a test can switch on; each applies to predict calls (and status/metadata where noted). */
export interface Faults {
  /** Delay before answering any request (ms). */
  delayMs?: number;
  /** Answer the next N predict calls (Infinity = all) with HTTP 500 `{"error": ...}`. */
  fail500?: number;
  /** Answer predict with a 200 whose body is not JSON. */
  malformedJson?: boolean;
  /** Answer predict with one score too few per row. */
  wrongShape?: boolean;
  /** Destroy the socket of the next N predict calls (Infinity = all) without answering. */
  dropConnections?: number;
  /** Answer predict with a 200 whose (valid) body arrives one byte every this many ms. */
  dripMs?: number;
  /** Answer predict with a 400 whose `error` text is this many bytes long (TF Serving passes op errors on whole). */
  oversizedErrorBytes?: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const POST_PATH =
  /^\/v1\/models\/([^/:]+)(?:(?:\/versions\/(\d+))|(?:\/labels\/([^/:]+)))?:(classify|regress|predict)$/i;
const GET_PATH = /^\/v1\/models(?:\/([^/:]+))?(?:(?:\/versions\/(\d+))|(?:\/labels\/([^/:]+)))?(?:\/(metadata))?$/i;

/** TF Serving writes floats with 6 significant digits when that round-trips (as float32), else 9; `3.0` not `3`. */
export function formatFloat(value: number): string {
  if (Number.isNaN(value)) {
    return 'NaN';
  }
  if (!Number.isFinite(value)) {
    return value > 0 ? 'Infinity' : '-Infinity';
  }
  const f = Math.fround(value);
  let text =
    Math.fround(Number(f.toPrecision(6))) === f ? String(Number(f.toPrecision(6))) : String(Number(f.toPrecision(9)));
  if (/^-?\d+$/.test(text)) {
    text += '.0';
  }
  return text;
}

function writeJsonValue(value: unknown, floats: boolean): string {
  if (Array.isArray(value)) {
    return `[${value.map((v) => writeJsonValue(v, floats)).join(', ')}]`;
  }
  if (typeof value === 'number') {
    return floats ? formatFloat(value) : String(value);
  }
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${writeJsonValue(v, floats)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value);
}

function shapeOf(value: unknown, path = 'value', level = 0): number[] {
  if (!Array.isArray(value)) {
    return [];
  }
  if (value.length === 0) {
    return [0];
  }
  const inner = shapeOf(value[0], path, level + 1);
  for (const item of value) {
    const shape = shapeOf(item, path, level + 1);
    if (shape.length !== inner.length) {
      throw new HttpError(
        400,
        `JSON Value: ${JSON.stringify(item)} found at incorrect level: ${level + 1} in the JSON DOM. Expected at level: ${inner.length + level + 1}`,
      );
    }
    if (shape[0] !== inner[0]) {
      throw new HttpError(
        400,
        `Encountered list at unexpected size: ${shape[0] ?? 0} at level: ${level + 1} expected size: ${inner[0] ?? 0}`,
      );
    }
  }
  return [value.length, ...inner];
}

function checkLeaves(value: unknown, dtype: TensorDtype): void {
  if (Array.isArray(value)) {
    value.forEach((v) => checkLeaves(v, dtype));
    return;
  }
  const type = dtype === 'DT_FLOAT' ? 'float' : dtype === 'DT_INT32' ? 'int32' : 'int64';
  const ok = typeof value === 'number' && (dtype === 'DT_FLOAT' || Number.isSafeInteger(value));
  if (!ok) {
    throw new HttpError(
      400,
      `JSON Value: ${JSON.stringify(value)} Type: ${typeof value === 'number' ? 'Number' : typeof value === 'string' ? 'String' : 'Object'} is not of expected type: ${type}`,
    );
  }
}

export interface ModelSpec {
  readonly name: string;
  readonly base: ReadonlyMap<string, Version>;
}

/**
 * The server. `addVersion` registers a servable; its state moves START → LOADING → AVAILABLE (immediately, or
 * after `loadMs`). Only AVAILABLE versions serve; "latest" is the highest AVAILABLE version.
 */
export class TfServingProtocolServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly models = new Map<string, Map<string, Version>>();
  private readonly labels = new Map<string, Map<string, string>>();
  private port = 0;
  private host = '127.0.0.1';
  faults: Faults = {};
  /** Every request seen: method, path and parsed body (for assertions on what the client sent). */
  readonly requests: { method: string; path: string; body: unknown }[] = [];

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listens (again) on the same port as before, or on a free one the first time; on loopback unless told. */
  async start(port = this.port, host = this.host): Promise<void> {
    this.host = host;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops listening and drops every connection: clients now get ECONNREFUSED, as with a crashed server. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  addVersion(name: string, version: string, predictor: Predictor, options: { loadMs?: number } = {}): void {
    const versions = this.models.get(name) ?? new Map<string, Version>();
    this.models.set(name, versions);
    const entry: Version = { state: 'START', predictor: null };
    versions.set(version, entry);
    const finish = () => {
      entry.predictor = predictor;
      entry.state = 'AVAILABLE';
    };
    entry.state = 'LOADING';
    if (options.loadMs) {
      setTimeout(finish, options.loadMs).unref();
    } else {
      finish();
    }
  }

  setState(name: string, version: string, state: VersionState, error?: string): void {
    const entry = this.models.get(name)?.get(version);
    if (!entry) {
      throw new Error(`no version ${version} of ${name}`);
    }
    entry.state = state;
    if (error !== undefined) {
      entry.error = error;
    }
  }

  /** Unloads a version (state END, no longer served), as when it disappears from the model base path. */
  unload(name: string, version: string): void {
    this.setState(name, version, 'END');
  }

  setLabel(name: string, label: string, version: string): void {
    const labels = this.labels.get(name) ?? new Map<string, string>();
    labels.set(label, version);
    this.labels.set(name, labels);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    let parsedBody: unknown;
    try {
      parsedBody = text ? JSON.parse(text) : undefined;
    } catch {
      parsedBody = text;
    }
    this.requests.push({ method, path, body: parsedBody });
    if (this.faults.delayMs) {
      await new Promise((resolve) => setTimeout(resolve, this.faults.delayMs));
    }
    if (!/^\/v1\//i.test(path)) {
      // Outside /v1/ the dispatcher answers with libevent's own (non-JSON) 404 page.
      res.writeHead(404, { 'Content-Type': 'text/html' }).end('<html><head><title>404 Not Found</title></head></html>');
      return;
    }
    try {
      const answer = this.route(method, path, text, res);
      if (answer === null) {
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(answer);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      res
        .writeHead(status, { 'Content-Type': 'application/json' })
        .end(`{\n    "error": ${JSON.stringify((error as Error).message)}\n}`);
    }
  }

  /** The JSON text of a 200 answer, or null when the response was handled (a dropped connection). */
  private route(method: string, path: string, text: string, res: ServerResponse): string | null {
    if (method === 'POST') {
      const m = POST_PATH.exec(path);
      if (m) {
        const [, name = '', version, label, verb = ''] = m;
        if (verb.toLowerCase() !== 'predict') {
          throw new HttpError(400, `this stand-in implements predict only, not ${verb}`);
        }
        return this.predict(decodeURIComponent(name), version, label && decodeURIComponent(label), text, res);
      }
    } else if (method === 'GET') {
      const m = GET_PATH.exec(path);
      if (m) {
        const [, name, version, label, metadata] = m;
        if (name === undefined) {
          throw new HttpError(400, 'Missing model name in request.');
        }
        return metadata
          ? this.metadata(decodeURIComponent(name), version, label && decodeURIComponent(label))
          : this.status(decodeURIComponent(name), version);
      }
    }
    throw new HttpError(400, `Malformed request: ${method} ${path}`);
  }

  private status(name: string, version: string | undefined): string {
    const versions = this.models.get(name);
    if (!versions || versions.size === 0) {
      throw new HttpError(404, `Could not find any versions of model ${name}`);
    }
    const selected =
      version === undefined ? [...versions.entries()] : [[version, versions.get(String(Number(version)))] as const];
    if (selected.some(([, v]) => v === undefined)) {
      throw new HttpError(404, `Could not find version ${version} of model ${name}`);
    }
    const body = {
      model_version_status: selected.map(([v, entry]) => ({
        version: v,
        state: entry!.state,
        status: { error_code: entry!.error ? 'UNKNOWN' : 'OK', error_message: entry!.error ?? '' },
      })),
    };
    return JSON.stringify(body, null, 1);
  }

  /** Resolves a request's model spec to a serving version, as TF Serving's manager does. */
  private servable(name: string, version: string | undefined, label: string | undefined): [string, Predictor] {
    if (label !== undefined) {
      const labelled = this.labels.get(name)?.get(label);
      if (labelled === undefined) {
        throw new HttpError(400, `Unrecognized servable version label: ${label}`);
      }
      version = labelled;
    }
    const versions = this.models.get(name) ?? new Map<string, Version>();
    const available = [...versions.entries()].filter(([, v]) => v.state === 'AVAILABLE' && v.predictor);
    if (version !== undefined) {
      const found = available.find(([v]) => Number(v) === Number(version));
      if (!found) {
        throw new HttpError(404, `Servable not found for request: Specific(${name}, ${Number(version)})`);
      }
      return [found[0], found[1].predictor!];
    }
    const latest = available.sort((a, b) => Number(b[0]) - Number(a[0]))[0];
    if (!latest) {
      throw new HttpError(404, `Servable not found for request: Latest(${name})`);
    }
    return [latest[0], latest[1].predictor!];
  }

  private metadata(name: string, version: string | undefined, label: string | undefined): string {
    const [resolved, predictor] = this.servable(name, version, label);
    const info = (spec: Predictor['inputs']) =>
      Object.fromEntries(
        Object.entries(spec).map(([key, t]) => [
          key,
          {
            dtype: t.dtype,
            tensor_shape: { dim: t.shape.map((size) => ({ size: String(size), name: '' })), unknown_rank: false },
            name: `${key}:0`,
          },
        ]),
      );
    const body = {
      model_spec: { name, signature_name: '', version: resolved },
      metadata: {
        signature_def: {
          signature_def: {
            [predictor.signatureName]: {
              inputs: info(predictor.inputs),
              outputs: info(predictor.outputs),
              method_name: 'tensorflow/serving/predict',
              defaults: {},
            },
          },
        },
      },
    };
    return JSON.stringify(body, null, 1);
  }

  private predict(
    name: string,
    version: string | undefined,
    label: string | undefined,
    text: string,
    res: ServerResponse,
  ): string | null {
    const [, predictor] = this.servable(name, version, label);
    if (this.faults.dropConnections && this.faults.dropConnections > 0) {
      this.faults.dropConnections--;
      res.socket?.destroy();
      return null;
    }
    if (this.faults.fail500 && this.faults.fail500 > 0) {
      this.faults.fail500--;
      throw new HttpError(500, 'Injected fault: internal error in the serving session');
    }
    if (this.faults.oversizedErrorBytes) {
      throw new HttpError(400, 'x'.repeat(this.faults.oversizedErrorBytes));
    }
    const dripMs = this.faults.dripMs;
    if (dripMs) {
      const body = Buffer.from('{"predictions": [[0.1, 0.9]]}');
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) });
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || sent >= body.length) {
          clearInterval(timer);
          res.end();
          return;
        }
        res.write(body.subarray(sent, ++sent));
      }, dripMs);
      return null;
    }
    if (text.trim().length === 0) {
      throw new HttpError(400, 'JSON Parse error: The document is empty');
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new HttpError(400, `JSON Parse error: ${(error as Error).message} at offset: 0`);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new HttpError(400, 'JSON Parse error: The document root must be an object');
    }
    const request = body as Record<string, unknown>;
    const signatureName = request.signature_name ?? '';
    if (typeof signatureName !== 'string') {
      throw new HttpError(400, "Invalid request: 'signature_name' key must be a string value.");
    }
    const wanted = signatureName === '' ? 'serving_default' : signatureName;
    if (wanted !== predictor.signatureName) {
      throw new HttpError(400, `Serving signature name: "${wanted}" not found in signature def`);
    }
    const hasInstances = 'instances' in request;
    const hasInputs = 'inputs' in request;
    if (hasInstances && hasInputs) {
      throw new HttpError(
        400,
        "Invalid request: Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist",
      );
    }
    if (!hasInstances && !hasInputs) {
      throw new HttpError(400, "Missing 'inputs' or 'instances' key");
    }
    const feeds = hasInstances
      ? this.fromInstances(request.instances, predictor)
      : this.fromInputs(request.inputs, predictor);
    const batch = new Set(Object.values(feeds).map((f) => f.length));
    if (batch.size > 1) {
      throw new HttpError(400, 'Input tensors have different batch sizes');
    }
    const outputs = predictor.predict(feeds);
    if (this.faults.malformedJson) {
      return '{"outputs": [[0.1, 0.2], [0.3';
    }
    if (this.faults.wrongShape) {
      for (const key of Object.keys(outputs)) {
        outputs[key] = (outputs[key] as unknown[]).map((row) => (Array.isArray(row) ? row.slice(0, -1) : row));
      }
    }
    const aliases = Object.keys(outputs);
    if (hasInstances) {
      const rows = (outputs[aliases[0]!] as unknown[]).length;
      const predictions = Array.from({ length: rows }, (_, i) =>
        aliases.length === 1
          ? (outputs[aliases[0]!] as unknown[])[i]
          : Object.fromEntries(aliases.map((a) => [a, (outputs[a] as unknown[])[i]])),
      );
      return `{\n    "predictions": ${writeJsonValue(predictions, true)}\n}`;
    }
    const payload = aliases.length === 1 ? outputs[aliases[0]!] : outputs;
    return `{\n    "outputs": ${writeJsonValue(payload, true)}\n}`;
  }

  /** Row format: one object per example whose keys equal the signature's inputs; equal shapes per input. */
  private fromInstances(instances: unknown, predictor: Predictor): Record<string, unknown[]> {
    if (!Array.isArray(instances) || instances.length === 0) {
      throw new HttpError(400, "Expecting 'instances' to be an list/array");
    }
    const names = Object.keys(predictor.inputs).sort();
    const feeds: Record<string, unknown[]> = Object.fromEntries(names.map((n) => [n, []]));
    instances.forEach((instance: unknown, i) => {
      if (names.length > 1 && (typeof instance !== 'object' || instance === null || Array.isArray(instance))) {
        throw new HttpError(
          400,
          'instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map',
        );
      }
      const record = names.length > 1 ? (instance as Record<string, unknown>) : { [names[0]!]: instance };
      const keys = Object.keys(record).sort();
      if (keys.join(',') !== names.join(',')) {
        throw new HttpError(
          400,
          `Failed to process element: ${i} of 'instances' list. JSON object: ${JSON.stringify(instance)} keys must be equal to: ${names.join(',')}`,
        );
      }
      for (const name of names) {
        const value = record[name];
        checkLeaves(value, predictor.inputs[name]!.dtype);
        const shape = shapeOf(value).join(',');
        const first = feeds[name]![0];
        if (first !== undefined && shapeOf(first).join(',') !== shape) {
          throw new HttpError(
            400,
            `Failed to process element: ${i} key: ${name} of 'instances' list. Error: Invalid argument: Expecting shape [${shapeOf(first).join(',')}] but got: [${shape}]`,
          );
        }
        feeds[name]!.push(value);
      }
    });
    return feeds;
  }

  /** Columnar format: every signature input present, each a whole batched tensor. */
  private fromInputs(inputs: unknown, predictor: Predictor): Record<string, unknown[]> {
    const names = Object.keys(predictor.inputs);
    if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
      if (names.length > 1) {
        throw new HttpError(
          400,
          'inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map',
        );
      }
      inputs = { [names[0]!]: inputs };
    }
    const record = inputs as Record<string, unknown>;
    const feeds: Record<string, unknown[]> = {};
    for (const name of names) {
      if (!(name in record)) {
        throw new HttpError(400, `Missing named input: ${name} in 'inputs' object.`);
      }
      const value = record[name];
      const spec = predictor.inputs[name]!;
      checkLeaves(value, spec.dtype);
      const shape = shapeOf(value);
      if (shape.length !== spec.shape.length) {
        throw new HttpError(400, `input ${name} has rank ${shape.length}, the signature says ${spec.shape.length}`);
      }
      feeds[name] = value as unknown[];
    }
    return feeds;
  }
}
