import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { DEFAULT_MODEL_DIR } from './support/app.js';
import { freePort, spawnService, waitFor } from './support/service-process.js';

/** The service as `npm start` and the container run it: `node dist/main.js`, configured by the environment. */
describe('node dist/main.js', () => {
  it('should serve the original curl example, log JSON lines with request ids, and exit 0 on SIGTERM', async () => {
    const port = await freePort();
    const home = mkdtempSync(join(tmpdir(), 'service-home-'));
    const service = spawnService({ PORT: String(port), HOST: '127.0.0.1', HOME: home });
    try {
      await waitFor(`${service.url}/health/ready`);
      const res = await fetch(`${service.url}/v1/inference/sentiment_analysis`, {
        method: 'POST',
        headers: { accept: 'application/json', 'Content-Type': 'application/json', 'X-Request-Id': 'curl-example-1' },
        body: '{"sentence": "this is a bad example"}',
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { sentiment: string; confidence: number };
      expect(body.sentiment).toBe('NEGATIVE');
      const bad = await fetch(`${service.url}/v1/inference/sentiment_analysis`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ sentence: 'x'.repeat(2001) }),
      });
      expect(bad.status).toBe(400);
    } finally {
      service.child.kill('SIGTERM');
    }
    expect(await service.exited).toBe(0);
    const logs = service.lines.map(
      (line) => JSON.parse(line) as { msg: string; req?: { id: string; url: string }; res?: { statusCode: number } },
    );
    // One line per request, with its id, route and status.
    expect(logs.filter((log) => log.req?.id === 'curl-example-1')).toEqual([
      expect.objectContaining({
        msg: 'request completed',
        req: expect.objectContaining({ url: '/v1/inference/sentiment_analysis' }) as unknown,
        res: { statusCode: 200 },
      }),
    ]);
    expect(logs.filter((log) => log.msg === 'request completed' && log.res?.statusCode === 400)).toHaveLength(1);
    // The main thread's idle session loads after the model is ready, so it never delays readiness.
    const messages = logs.map((log) => log.msg);
    expect(messages.indexOf('model ready')).toBeGreaterThanOrEqual(0);
    expect(messages.indexOf('idle session ready')).toBeGreaterThan(messages.indexOf('model ready'));
    // ONNX Runtime's telemetry is off: no device id or event database under the home folder.
    expect(existsSync(join(home, '.cache', 'Microsoft'))).toBe(false);
    rmSync(home, { recursive: true, force: true });
  });

  it('should cut slow uploads with a 408 in the JSON error shape, and log a client that gives up as 499, not 500', async () => {
    const port = await freePort();
    const service = spawnService({ PORT: String(port), HOST: '127.0.0.1', RECEIVE_TIMEOUT_MS: '1000' });
    /** Writes `head`, then reads until the server closes: what it answered and how long that took. */
    const stall = (head: string) =>
      new Promise<{ text: string; ms: number }>((done, fail) => {
        const started = performance.now();
        const socket: Socket = connect(port, '127.0.0.1', () => socket.write(head));
        let text = '';
        socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        socket.on('close', () => done({ text, ms: performance.now() - started }));
        socket.on('error', fail);
      });
    const route = '/v1/inference/sentiment_analysis';
    try {
      await waitFor(`${service.url}/health/ready`);
      const [slowBody, slowHeaders] = await Promise.all([
        // Announces 100 bytes of body, sends 14, then nothing.
        stall(
          `POST ${route} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"sentence": "`,
        ),
        stall(`GET /health/live HTTP/1.1\r\nHost: x\r\n`),
      ]);
      for (const { text, ms } of [slowBody, slowHeaders]) {
        expect(text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
        expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toEqual({
          statusCode: 408,
          error: 'Request Timeout',
          message: 'the request was not received in full within 1000 ms (RECEIVE_TIMEOUT_MS); the connection is closed',
          requestId: '',
        });
        // The timeout plus at most one check interval (1 s), with room for a loaded machine.
        expect(ms).toBeGreaterThanOrEqual(900);
        expect(ms).toBeLessThan(4000);
      }
      // A client that sends a whole request and leaves before the answer.
      await new Promise<void>((done) => {
        const body = JSON.stringify({ sentences: new Array(64).fill('a long enough sentence to keep the model busy') });
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(
            `POST ${route}/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
          );
          setTimeout(() => {
            socket.destroy();
            done();
          }, 2);
        });
      });
      expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
      await new Promise((wait) => setTimeout(wait, 300));
    } finally {
      service.child.kill('SIGTERM');
    }
    expect(await service.exited).toBe(0);
    const logs = service.lines.map(
      (line) => JSON.parse(line) as { level: number; msg: string; status?: number; url?: string },
    );
    // (Readiness answers 503 while the model loads, logged apart; nothing on the inference routes is an error.)
    expect(logs.filter((log) => log.level >= 50 && log.url?.startsWith('/v1/'))).toEqual([]);
    expect(logs).toContainEqual(expect.objectContaining({ level: 30, msg: 'client closed request', status: 499 }));
  }, 30_000);

  /** The one JSON line a refused start writes (stderr), and its exit code; nothing else may be printed. */
  async function refusedStart(env: Record<string, string>): Promise<{ code: number | null; problems: unknown }> {
    const service = spawnService({ PORT: String(await freePort()), ...env });
    const code = await service.exited;
    const lines = service.stderr.join('').trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as { level: number; msg: string; problems: unknown };
    expect(line).toMatchObject({ level: 60, msg: 'invalid configuration' });
    // Before: exit 1 and an 11-line Nest stack trace that named no variable.
    expect(service.lines.join('\n')).not.toMatch(/\n\s+at /);
    return { code, problems: line.problems };
  }

  it('should refuse to start on a bad configuration, naming every bad variable in one JSON line', async () => {
    const env = { PORT: 'http', MAX_BATCH_SIZE: '-1', LOG_LEVEL: 'verbose', API_KEYS: 'short' };
    const { code, problems } = await refusedStart(env);
    expect(code).toBe(78);
    // Checked together (before: API_KEYS only after the others, and PORT read "expected number, received NaN").
    expect(problems).toEqual(
      expect.arrayContaining([
        { variable: 'PORT', value: 'http', problem: 'expected a number' },
        expect.objectContaining({ variable: 'MAX_BATCH_SIZE', value: '-1' }),
        expect.objectContaining({ variable: 'LOG_LEVEL', value: 'verbose' }),
        { variable: 'API_KEYS', value: 'short', problem: 'every key must have at least 16 characters' },
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it.each([
    [{ MODEL_DIR: '/nonexistent/models' }, 'MODEL_DIR', '/nonexistent/models', 'model folder not found'],
    [{ MODEL_VERSION: '7' }, 'MODEL_VERSION', '7', 'version 7 not found (available: 1)'],
  ])('should refuse a model folder or version that is not there: %o', async (env, variable, value, what) => {
    const { code, problems } = await refusedStart(env);
    expect(code).toBe(78);
    expect(problems).toEqual([{ variable, value, problem: expect.stringContaining(what) as string }]);
  });

  describe('a model folder with a broken file', () => {
    let root: string;
    let modelDir: string;
    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'broken-model-'));
      modelDir = join(root, 'sentiment_analysis');
      cpSync(DEFAULT_MODEL_DIR, modelDir, { recursive: true });
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it('should refuse ONNX_PRECISION=int8 when the version has no model.int8.onnx, saying how to make it', async () => {
      rmSync(join(modelDir, '1', 'model.int8.onnx'));
      const { code, problems } = await refusedStart({ ONNX_PRECISION: 'int8', MODEL_DIR: modelDir });
      expect(code).toBe(78);
      expect(problems).toEqual([
        {
          variable: 'ONNX_PRECISION',
          value: 'int8',
          problem: expect.stringMatching(
            new RegExp(`^${join(modelDir, '1', 'model.int8.onnx')} does not exist: .*npm run model:quantize`),
          ) as string,
        },
      ]);
    });

    it('should refuse a tokenizer.json that is not a tokenizer, naming MODEL_DIR and the file', async () => {
      writeFileSync(join(modelDir, '1', 'tokenizer.json'), '{"broken":');
      const { code, problems } = await refusedStart({ MODEL_DIR: modelDir });
      expect(code).toBe(78);
      expect(problems).toEqual([
        {
          variable: 'MODEL_DIR',
          value: modelDir,
          problem: expect.stringContaining(`${join(modelDir, '1', 'tokenizer.json')}: not a tokenizer`) as string,
        },
      ]);
    });

    it('should stop, not stay up unready, when ONNX Runtime cannot load model.onnx', async () => {
      writeFileSync(join(modelDir, '1', 'model.onnx'), randomBytes(4096));
      const { code, problems } = await refusedStart({ MODEL_DIR: modelDir });
      expect(code).toBe(78);
      expect(problems).toEqual([
        {
          variable: 'MODEL_DIR',
          value: modelDir,
          problem: expect.stringMatching(/^the model failed to load: .*Protobuf parsing failed/) as string,
        },
      ]);
    });
  });
});
