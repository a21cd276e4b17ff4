import { type AgentOptions, type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UpstreamFailedError, UpstreamTimeoutError, UpstreamUnavailableError } from '../../errors/index.js';
import { MAX_RESPONSE_BYTES, TfServingClient, parseTfServingJson } from './tf-serving.client.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A throw-away upstream whose answers the test scripts, one handler per call. */
async function upstream(handlers: Handler[]): Promise<{ server: Server; url: string; calls: string[] }> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    (handlers.shift() ?? ((_, r) => r.writeHead(599).end()))(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

const json =
  (status: number, body: string): Handler =>
  (_, res) =>
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(body);

describe(TfServingClient.name, () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  async function client(handlers: Handler[], options: Partial<ConstructorParameters<typeof TfServingClient>[0]> = {}) {
    const up = await upstream(handlers);
    servers.push(up.server);
    const c = new TfServingClient(
      { url: up.url, modelName: 'sentiment_analysis', timeoutMs: 2000, retries: 2, connectTimeoutMs: 500, ...options },
      () => 0.5,
    );
    return { c, calls: up.calls };
  }

  it('should build version- and label-specific model paths', () => {
    const base = { url: 'http://x', modelName: 'm', timeoutMs: 1, retries: 0, connectTimeoutMs: 500 };
    expect(new TfServingClient(base).modelPath).toBe('/v1/models/m');
    expect(new TfServingClient({ ...base, version: '3' }).modelPath).toBe('/v1/models/m/versions/3');
    expect(new TfServingClient({ ...base, label: 'canary' }).modelPath).toBe('/v1/models/m/labels/canary');
  });

  it('should POST the columnar request to :predict and parse the answer', async () => {
    let received = '';
    const { c, calls } = await client([
      (req, res) => {
        req.on('data', (d: Buffer) => (received += d.toString()));
        req.on('end', () => json(200, '{\n    "outputs": [[1.5, -2.0]]\n}')(req, res));
      },
    ]);
    const answer = await c.predict({ signature_name: 'serving_default', inputs: { input_ids: [[2, 7, 3]] } });
    expect(answer).toEqual({ outputs: [[1.5, -2]] });
    expect(calls).toEqual(['POST /v1/models/sentiment_analysis:predict']);
    expect(JSON.parse(received)).toEqual({ signature_name: 'serving_default', inputs: { input_ids: [[2, 7, 3]] } });
  });

  it('should retry a 503 and a refused connection, then succeed', async () => {
    const { c, calls } = await client([
      json(503, '{"error": "Model is loading"}'),
      (req) => req.socket.destroy(),
      json(200, '{"outputs": [[0.0, 1.0]]}'),
    ]);
    await expect(c.predict({ signature_name: 's', inputs: {} })).resolves.toEqual({ outputs: [[0, 1]] });
    expect(calls).toHaveLength(3);
  });

  it('should give up after the configured retries with a 503-kind error', async () => {
    const { c, calls } = await client(
      [json(503, '{"error": "a"}'), json(503, '{"error": "b"}'), json(503, '{"error": "c"}')],
      { retries: 1 },
    );
    await expect(c.predict({ signature_name: 's', inputs: {} })).rejects.toThrow(UpstreamUnavailableError);
    expect(calls).toHaveLength(2);
  });

  it("should not retry a 4xx and carry TF Serving's error text in a 502-kind error", async () => {
    const { c, calls } = await client([json(400, '{\n    "error": "indices[0,1] = 99999 is not in [0, 11629)"\n}')]);
    const error = await c.predict({ signature_name: 's', inputs: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamFailedError);
    expect((error as Error).message).toBe('TensorFlow Serving answered 400: indices[0,1] = 99999 is not in [0, 11629)');
    expect(calls).toHaveLength(1);
  });

  it('should treat "Servable not found" as unavailable (model not loaded), and TF Serving\'s 504 as a timeout', async () => {
    const { c } = await client(
      [
        json(404, '{"error": "Servable not found for request: Latest(sentiment_analysis)"}'),
        json(504, '{"error": "Deadline Exceeded"}'),
      ],
      {
        retries: 0,
      },
    );
    await expect(c.predict({ signature_name: 's', inputs: {} })).rejects.toThrow(UpstreamUnavailableError);
    await expect(c.predict({ signature_name: 's', inputs: {} })).rejects.toThrow(UpstreamTimeoutError);
  });

  it('should time out a slow upstream within the budget', async () => {
    const { c } = await client([(_, res) => setTimeout(() => json(200, '{}')(_, res), 1000)], { timeoutMs: 100 });
    const started = Date.now();
    await expect(c.status()).rejects.toThrow(/did not answer within 100 ms/);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('should report an unreachable upstream as unavailable, naming the address', async () => {
    const c = new TfServingClient(
      { url: 'http://127.0.0.1:9', modelName: 'm', timeoutMs: 1000, retries: 1, connectTimeoutMs: 500 },
      () => 0,
    );
    await expect(c.status()).rejects.toThrow(/TensorFlow Serving is unavailable: ECONNREFUSED http:\/\/127\.0\.0\.1:9/);
  });

  it('should fail fast, without retrying, when no connection opens within the connect budget (name lookup hangs)', async () => {
    let lookups = 0;
    // A name that never resolves (as when the host is stopped and DNS does not answer).
    const hanging = (() => void lookups++) as unknown as NonNullable<AgentOptions['lookup']>;
    const c = new TfServingClient(
      { url: 'http://tf-serving:8501', modelName: 'm', timeoutMs: 5000, retries: 2, connectTimeoutMs: 200 },
      () => 0,
      { lookup: hanging },
    );
    const started = Date.now();
    await expect(c.status()).rejects.toThrow(
      /TensorFlow Serving is unavailable: ECONNECT_TIMEOUT http:\/\/tf-serving:8501/,
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(lookups).toBe(1);
    c.close();
  });

  it('should keep to the budget when the answer drips in a byte at a time', async () => {
    const dripping: Handler = (_, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    };
    const { c } = await client([dripping], { timeoutMs: 300 });
    const started = Date.now();
    await expect(c.status()).rejects.toThrow(/did not answer within 300 ms/);
    expect(Date.now() - started).toBeLessThan(800);
    c.close();
  });

  it('should refuse an answer larger than MAX_RESPONSE_BYTES, and cut TF Serving error texts short', async () => {
    const huge = `{"outputs": [${'0.1,'.repeat(MAX_RESPONSE_BYTES / 4)}0.1]}`;
    const { c } = await client([json(200, huge), json(400, JSON.stringify({ error: 'x'.repeat(50_000) }))]);
    await expect(c.predict({ signature_name: 's', inputs: {} })).rejects.toThrow(
      new RegExp(`gave an invalid answer: an answer larger than ${MAX_RESPONSE_BYTES} bytes`),
    );
    const error = (await c.status().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(UpstreamFailedError);
    expect(error.message).toContain('… (50000 characters)');
    expect(error.message.length).toBeLessThan(700);
    c.close();
  });

  it('should reject a 200 whose body is not JSON', async () => {
    const { c } = await client([json(200, '{"outputs": [[0.1, 0.2], [0.3')]);
    await expect(c.predict({ signature_name: 's', inputs: {} })).rejects.toThrow(
      /gave an invalid answer: unparsable body/,
    );
  });
});

describe(parseTfServingJson.name, () => {
  it('should read the bare NaN and Infinity tokens TF Serving writes, outside strings only', () => {
    expect(parseTfServingJson('{"outputs": [[NaN, -Infinity, Infinity, 1e-05]], "error": "NaN Infinity"}')).toEqual({
      outputs: [[null, null, null, 1e-5]],
      error: 'NaN Infinity',
    });
    expect(parseTfServingJson('{"s": "a \\" NaN"}')).toEqual({ s: 'a " NaN' });
  });
});
