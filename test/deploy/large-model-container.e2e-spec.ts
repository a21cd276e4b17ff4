/**
 * The data scientist's real model size, in the image, under the memory limits the docs give: a BERT-base-shaped
 * checkpoint (12 × 768, random weights, the bundled tokenizer; generated, never committed) imported with
 * `npm run model:import -- --quantize` (the CLI, in its own process), mounted read-only into the image, then
 * - fp32 under 768Mi (helm/…/values.yaml, k8s/api-deployment.yaml, docs/deployment.md#memory) and int8 under 512Mi:
 *   ready within the startupProbe's budget, 16 concurrent requests and 64-sentence batches answered, never
 *   OOM-killed, the peak the process's peak RSS reported;
 * - fp32 under 512Mi: refused at once, exit 78, one line with what it needs.
 * Skips without an engine (DEPLOY_CHECKS=required, as in CI, makes that a failure).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SENTENCES } from '../../bench/lib/sentences.js';
import { BERT_BASE, syntheticBert } from '../../bench/lib/synthetic-bert.js';
import { REPO_ROOT } from '../support/app.js';
import { APP_VERSION, buildServiceImage, docker, run, waitFor } from '../support/docker.js';
import { describeWhere, dockerUnavailable } from '../support/tools.js';

const IMAGE = `sentiment-analysis:${APP_VERSION}`;
/** The k8s startupProbe's budget (periodSeconds × failureThreshold), as container.e2e-spec.ts checks it. */
const STARTUP_BUDGET_MS = 60_000;

describeWhere(dockerUnavailable(), 'a BERT-base-shaped model in the image, under the documented memory limits', () => {
  let root = '';
  let models = '';
  const figures: string[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'bert-base-image-'));
    const checkpoint = await syntheticBert(join(root, 'checkpoint'), BERT_BASE);
    if (checkpoint === null) {
      throw new Error('the ONNX emitter (tools/export) is not available');
    }
    models = join(root, 'models');
    const started = performance.now();
    const imported = await run(
      join(REPO_ROOT, 'node_modules/.bin/tsx'),
      ['tools/import/import-model.ts', '--from', join(checkpoint, '1'), '--models-dir', models, '--quantize'],
      { cwd: REPO_ROOT, timeoutMs: 5 * 60_000 },
    );
    expect({ code: imported.code, stderr: imported.stderr }).toEqual({ code: 0, stderr: '' });
    expect(imported.stdout).toMatch(/model\.int8\.onnx\s+\d+\.\d MiB/);
    figures.push(`import with --quantize ${((performance.now() - started) / 1000).toFixed(1)} s`);
    // mkdtemp makes 0700 folders; the image runs as uid 1000.
    for (const dir of [root, models, join(models, 'sentiment_analysis'), join(models, 'sentiment_analysis', '1')]) {
      chmodSync(dir, 0o755);
    }
    await buildServiceImage(IMAGE);
  }, 10 * 60_000);

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    console.log(`BERT-base shape in the image: ${figures.join('; ')}`);
  });

  const start = (limit: string, env: Record<string, string> = {}) =>
    docker([
      'run',
      '--detach',
      '--memory',
      limit,
      '--memory-swap',
      limit,
      '--read-only',
      '--tmpfs',
      '/tmp',
      '-v',
      `${models}:/models:ro`,
      '-e',
      'MODEL_DIR=/models/sentiment_analysis',
      ...Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]),
      '-p',
      '127.0.0.1::5001',
      IMAGE,
    ]);

  it.each([
    ['fp32', '768m', {}],
    ['int8', '512m', { ONNX_PRECISION: 'int8' }],
  ])(
    'should serve %s under a %s limit: ready in the startup budget, loaded, never OOM-killed',
    async (precision, limit, env) => {
      const id = await start(limit, env);
      try {
        const started = performance.now();
        const base = `http://${await docker(['port', id, '5001/tcp'])}`;
        await waitFor(
          'GET /health/ready 200',
          async () => ((await fetch(`${base}/health/ready`).catch(() => null))?.status === 200 ? true : undefined),
          STARTUP_BUDGET_MS,
          100,
        );
        const readyS = (performance.now() - started) / 1000;
        const route = `${base}/v1/inference/sentiment_analysis`;
        const post = (path: string, body: unknown) =>
          fetch(`${route}${path}`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(body),
          });
        // 16 connections, 8 requests each, then 4 concurrent 64-sentence batches.
        const single = await Promise.all(
          Array.from({ length: 16 }, async (_, c) => {
            const answers = [];
            for (let i = 0; i < 8; i++) {
              const res = await post('', { sentence: SENTENCES[(c * 8 + i) % SENTENCES.length] });
              answers.push(`${res.status} ${res.headers.get('x-model-precision')}`);
            }
            return answers;
          }),
        );
        expect(new Set(single.flat())).toEqual(new Set([`200 ${precision}`]));
        const sentences = Array.from({ length: 64 }, (_, i) => SENTENCES[i % SENTENCES.length]);
        const batches = await Promise.all(Array.from({ length: 4 }, () => post('/batch', { sentences })));
        expect(batches.map((res) => res.status)).toEqual([200, 200, 200, 200]);
        expect(await docker(['inspect', '--format', '{{.State.Running}} {{.State.OOMKilled}}', id])).toBe('true false');
        // The service's peak RSS (worker threads included). The cgroup's own peak also counts the page cache of the
        // model files read, which the kernel reclaims before it would OOM-kill.
        const status = await docker(['exec', id, 'cat', '/proc/1/status']);
        const peakKiB = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
        expect(peakKiB).toBeGreaterThan(0);
        figures.push(
          `${precision} under ${limit}: ready ${readyS.toFixed(1)} s, peak RSS ${(peakKiB / 1024).toFixed(0)} MiB`,
        );
      } finally {
        await docker(['rm', '--force', id]);
      }
    },
    STARTUP_BUDGET_MS + 120_000,
  );

  it('should refuse fp32 under 512Mi at once: exit 78, one line with the memory it needs', async () => {
    const id = await start('512m');
    try {
      expect(await docker(['wait', id], 60_000)).toBe('78');
      const logs = await run('docker', ['logs', id]);
      expect(logs.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/model\.onnx needs about \d+ MiB of memory .* the container's memory limit is 512 MiB/),
      ]);
    } finally {
      await docker(['rm', '--force', id]);
    }
  }, 70_000);
});
