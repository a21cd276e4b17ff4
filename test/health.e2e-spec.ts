import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { OnnxStrategy } from '../src/inference/index.js';
import { DEFAULT_MODEL_DIR, startApp } from './support/app.js';

const MODEL_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];

/** A copy of the bundled model's version 1 whose model.onnx is replaced by `onnx` (a path to create it at). */
function modelCopy(makeOnnx: (path: string) => void): string {
  const root = mkdtempSync(join(tmpdir(), 'model-'));
  const dir = join(root, 'sentiment_analysis', '1');
  mkdirSync(dir, { recursive: true });
  for (const file of MODEL_FILES) {
    copyFileSync(resolve(DEFAULT_MODEL_DIR, '1', file), join(dir, file));
  }
  makeOnnx(join(dir, 'model.onnx'));
  return join(root, 'sentiment_analysis');
}

describe('health probes', () => {
  it('should report live at once, ready only after the model has loaded and warmed up', async () => {
    // model.onnx is a FIFO: loading blocks until the test writes the real model into it. A FIFO can be read once,
    // and each ONNX Runtime session reads the model file itself: one worker, and no main-thread idle session.
    const modelDir = modelCopy((path) => execFileSync('mkfifo', [path]));
    const app = await startApp(
      { MODEL_DIR: modelDir, ONNX_WORKERS: '1', ONNX_IDLE_INLINE: 'false' },
      { waitForModel: false },
    );
    try {
      const server = app.getHttpServer();
      await request(server)
        .get('/health/live')
        .expect(200)
        .expect((res) => expect(res.body.status).toBe('ok'));
      const before = await request(server).get('/health/ready').expect(503);
      expect(before.body.error).toEqual({ v1_onnxruntime: { status: 'down', state: 'loading' } });
      const early = await request(server)
        .post('/v1/inference/sentiment_analysis')
        .send({ sentence: 'hello' })
        .expect(503);
      expect(early.headers['retry-after']).toBe('1');
      expect(early.body.message).toMatch(/model "sentiment_analysis" is not ready/);
      // Metrics stay scrapeable while the model loads; it has no model info yet.
      const loadingMetrics = await request(server).get('/metrics').expect(200);
      expect(loadingMetrics.text).not.toContain('sentiment_model_info{api_version="1"');

      const fifo = await open(join(modelDir, '1', 'model.onnx'), 'w');
      await fifo.writeFile(readFileSync(resolve(DEFAULT_MODEL_DIR, '1', 'model.onnx')));
      await fifo.close();
      await app.get(OnnxStrategy).settled();

      const after = await request(server).get('/health/ready').expect(200);
      expect(after.body.info.v1_onnxruntime).toEqual({
        status: 'up',
        model: 'sentiment_analysis',
        version: '1',
        backend: 'onnxruntime',
      });
      await request(server).post('/v1/inference/sentiment_analysis').send({ sentence: 'hello' }).expect(200);
      const readyMetrics = await request(server).get('/metrics').expect(200);
      expect(readyMetrics.text).toContain('sentiment_model_info{api_version="1",model="sentiment_analysis"');
    } finally {
      await app.close();
      rmSync(resolve(modelDir, '..'), { recursive: true, force: true });
    }
  });

  it('should stay live but never ready when model.onnx is corrupt, and say why', async () => {
    const modelDir = modelCopy((path) => writeFileSync(path, 'this is not an onnx file'));
    const app = await startApp({ MODEL_DIR: modelDir });
    try {
      const server = app.getHttpServer();
      await request(server).get('/health/live').expect(200);
      const ready = await request(server).get('/health/ready').expect(503);
      expect(ready.body.error.v1_onnxruntime).toMatchObject({
        status: 'down',
        state: 'failed',
        reason: expect.any(String),
      });
      const res = await request(server)
        .post('/v1/inference/sentiment_analysis')
        .send({ sentence: 'hello' })
        .expect(503);
      expect(res.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    } finally {
      await app.close();
      rmSync(resolve(modelDir, '..'), { recursive: true, force: true });
    }
  });

  it('should refuse to start on a model folder that does not exist, naming it', async () => {
    await expect(startApp({ MODEL_DIR: '/nonexistent/models/x' })).rejects.toThrow(
      /\/nonexistent\/models\/x: model folder not found/,
    );
  });
});
