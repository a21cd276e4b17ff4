import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { DEFAULT_MODEL_DIR } from './support/app.js';
import { buildService, freePort, spawnService, waitFor } from './support/service-process.js';

/** The service as `npm start` and the container run it: `node dist/main.js`, configured by the environment. */
describe('node dist/main.js', () => {
  beforeAll(() => buildService(), 120_000);

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
    const logs = service.lines.map((line) => JSON.parse(line) as { msg: string; req?: { id: string } });
    expect(logs.some((log) => log.req?.id === 'curl-example-1')).toBe(true);
    expect(logs.some((log) => log.msg === 'model ready')).toBe(true);
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

  it('should refuse to start on a bad configuration, naming every bad variable', async () => {
    const service = spawnService({ PORT: 'http', MAX_BATCH_SIZE: '-1', LOG_LEVEL: 'verbose', API_KEYS: 'short' });
    expect(await service.exited).toBe(78);
    const stderr = service.stderr.join('');
    expect(stderr).toContain('PORT="http"');
    expect(stderr).toContain('MAX_BATCH_SIZE="-1"');
    expect(stderr).toContain('LOG_LEVEL="verbose"');
    // Checked with the others, not after them (before: only the first three were named).
    expect(stderr).toContain('API_KEYS="short": every key must have at least 16 characters');
  });

  it.each([
    [{ MODEL_DIR: '/nonexistent/models' }, 'MODEL_DIR="/nonexistent/models"', 'model folder not found'],
    [{ MODEL_VERSION: '7' }, 'MODEL_VERSION="7"', 'version 7 not found (available: 1)'],
  ])(
    'should refuse a model folder or version that is not there with exit 78 and one line naming it: %o',
    async (env, names, what) => {
      const service = spawnService({ ...env, PORT: String(await freePort()) });
      // Before: exit 1 and an 11-line Nest stack trace that named no variable.
      expect(await service.exited).toBe(78);
      const stderr = service.stderr.join('');
      expect(stderr).toContain(names);
      expect(stderr).toContain(what);
      expect(stderr).not.toMatch(/\n\s+at /);
    },
  );

  it('should refuse to start with ONNX_PRECISION=int8 when the version has no model.int8.onnx, saying how to make it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'no-int8-'));
    const modelDir = join(root, 'sentiment_analysis');
    cpSync(DEFAULT_MODEL_DIR, modelDir, { recursive: true, filter: (source) => !source.endsWith('model.int8.onnx') });
    try {
      const service = spawnService({ ONNX_PRECISION: 'int8', MODEL_DIR: modelDir, PORT: String(await freePort()) });
      expect(await service.exited).toBe(78);
      const stderr = service.stderr.join('');
      expect(stderr).toContain(`ONNX_PRECISION=int8 but ${join(modelDir, '1', 'model.int8.onnx')} does not exist`);
      expect(stderr).toContain('npm run model:quantize');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
