import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('should refuse to start on a bad configuration, naming every bad variable', async () => {
    const service = spawnService({ PORT: 'http', MAX_BATCH_SIZE: '-1', LOG_LEVEL: 'verbose' });
    expect(await service.exited).toBe(78);
    const stderr = service.stderr.join('');
    expect(stderr).toContain('PORT="http"');
    expect(stderr).toContain('MAX_BATCH_SIZE="-1"');
    expect(stderr).toContain('LOG_LEVEL="verbose"');
  });

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
