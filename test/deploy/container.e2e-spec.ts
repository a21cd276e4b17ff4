/**
 * The image on a real Docker engine: built from the Dockerfile as it is, run as docker-compose.yml and k8s/ run it
 * (read-only root filesystem, tmpfs /tmp, every capability dropped, no-new-privileges, uid 1000), ready within the
 * startupProbe's budget, answering the README's curl, healthy by its own HEALTHCHECK, and stopped with requests in
 * flight: each gets its whole answer and the process exits 0 well inside the grace period. Skips without an engine
 * (DEPLOY_CHECKS=required, as in CI, makes that a failure).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { SENTENCES } from '../../bench/lib/sentences.js';
import { REPO_ROOT } from '../support/app.js';
import { APP_VERSION, NODE_IMAGE, buildServiceImage, docker, imageSize, run, waitFor } from '../support/docker.js';
import { readManifests } from '../support/k8s-validation.js';
import { readmeCurl, sendCurl } from '../support/readme.js';
import { describeWhere, dockerUnavailable } from '../support/tools.js';

/** The tag docker-compose.yml gives the image it builds. */
const IMAGE = `sentiment-analysis:${APP_VERSION}`;
const CONTAINER = `sentiment-analysis-test-${process.pid}`;

const deployment = readManifests(resolve(REPO_ROOT, 'k8s/api-deployment.yaml'))[0]!;
const podSpec = (deployment.spec as { template: { spec: Record<string, unknown> } }).template.spec as {
  terminationGracePeriodSeconds: number;
  containers: { startupProbe: { periodSeconds: number; failureThreshold: number } }[];
};
const STARTUP_BUDGET_MS =
  podSpec.containers[0]!.startupProbe.periodSeconds * podSpec.containers[0]!.startupProbe.failureThreshold * 1000;
const compose = parse(readFileSync(resolve(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: { api: { environment: Record<string, string>; stop_grace_period: string } };
};
const GRACE_S = Number(/^(\d+)s$/.exec(compose.services.api.stop_grace_period)?.[1]);
const SHUTDOWN_DELAY_MS = compose.services.api.environment.SHUTDOWN_DELAY_MS!;

const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

describeWhere(dockerUnavailable(), 'the image on a real Docker engine', () => {
  let url = '';
  const figures: Record<string, string> = {};

  beforeAll(async () => {
    figures.build = `${((await buildServiceImage(IMAGE)) / 1000).toFixed(1)} s`;
    await docker(['rm', '-f', CONTAINER]).catch(() => undefined);
  }, 16 * 60_000);

  afterAll(async () => {
    await docker(['rm', '-f', CONTAINER]).catch(() => undefined);
    console.log(
      `image ${IMAGE}: ${Object.entries(figures)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  });

  it('should hold only production dependencies, and be the size docs/image-size.json records', async () => {
    const total = await imageSize(IMAGE);
    const base = await imageSize(NODE_IMAGE);
    Object.assign(figures, { size: mb(total), base: mb(base), own: mb(total - base) });
    const devOnly = await docker([
      'run',
      '--rm',
      '--entrypoint',
      'node',
      IMAGE,
      '-e',
      // Development tools, and the model toolchain's workspace and its own dependencies.
      "const fs=require('fs');console.log(['jest','typescript','ts-jest','eslint','tsx','@sentiment-analysis/model-tools','protobufjs','h5wasm','long'].filter(p=>fs.existsSync('node_modules/'+p)).join(','))",
    ]);
    expect(devOnly).toBe('');
    const recorded = (
      JSON.parse(readFileSync(resolve(REPO_ROOT, 'docs/image-size.json'), 'utf8')) as {
        image?: { ownBytes: number };
      }
    ).image;
    // The doc is rerun with `npm run image:size` when the image changes by more than a tenth.
    expect(recorded).toBeDefined();
    expect(Math.abs(total - base - recorded!.ownBytes) / recorded!.ownBytes).toBeLessThan(0.1);
  }, 120_000);

  it('should refuse to start, in one line with the memory it needs, under a memory limit the model cannot fit', async () => {
    const id = await docker(['run', '--detach', '--memory', '200m', '--memory-swap', '200m', IMAGE]);
    try {
      const code = await docker(['wait', id], 60_000);
      const logs = await run('docker', ['logs', id]);
      expect({ code, stdout: logs.stdout }).toEqual({ code: '78', stdout: '' });
      expect(logs.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/model\.onnx needs about \d+ MiB of memory .* the container's memory limit is 200 MiB/),
      ]);
    } finally {
      await docker(['rm', '--force', id]);
    }
  }, 70_000);

  it('should fit its plan under a tight limit: 300 MiB → one session, and 15 × 64-sentence batches answered', async () => {
    const id = await docker([
      'run',
      '--detach',
      '--memory',
      '300m',
      '--memory-swap',
      '300m',
      '-p',
      '127.0.0.1::5001',
      IMAGE,
    ]);
    try {
      const base = `http://${await docker(['port', id, '5001/tcp'])}`;
      await waitFor(
        'GET /health/ready 200',
        async () => ((await fetch(`${base}/health/ready`).catch(() => null))?.status === 200 ? true : undefined),
        STARTUP_BUDGET_MS,
        50,
      );
      const plan = (await run('docker', ['logs', id])).stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { msg?: string })
        .find((line) => line.msg === 'execution plan');
      // Two sessions (one per CPU) would need more than 90% of 300 MiB.
      expect(plan).toMatchObject({ workers: 1, reducedFor: 'memory', memoryLimitMiB: 300 });
      const sentences = Array.from({ length: 64 }, (_, i) => `${SENTENCES[i % SENTENCES.length]} ${i}`);
      const statuses = await Promise.all(
        Array.from({ length: 15 }, () =>
          fetch(`${base}/v1/inference/sentiment_analysis/batch`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ sentences }),
          }).then((res) => res.status),
        ),
      );
      expect(statuses).toEqual(new Array(15).fill(200));
      expect(await docker(['inspect', '--format', '{{.State.Running}} {{.State.OOMKilled}}', id])).toBe('true false');
    } finally {
      await docker(['rm', '--force', id]);
    }
  }, 120_000);

  it(
    'should start read-only, unprivileged, as uid 1000, and be ready within the startupProbe budget',
    async () => {
      const started = performance.now();
      await docker([
        'run',
        '-d',
        '--name',
        CONTAINER,
        '--read-only',
        '--tmpfs',
        '/tmp',
        '--cap-drop',
        'ALL',
        '--security-opt',
        'no-new-privileges:true',
        '--user',
        '1000:1000',
        '-e',
        `SHUTDOWN_DELAY_MS=${SHUTDOWN_DELAY_MS}`,
        '-p',
        '127.0.0.1::5001',
        IMAGE,
      ]);
      url = `http://${await docker(['port', CONTAINER, '5001/tcp'])}`;
      await waitFor(
        'GET /health/ready 200',
        async () => ((await fetch(`${url}/health/ready`)).status === 200 ? true : undefined),
        STARTUP_BUDGET_MS,
        50,
      );
      const readyMs = performance.now() - started;
      figures.ready = `${(readyMs / 1000).toFixed(2)} s after docker run`;
      expect(readyMs).toBeLessThan(STARTUP_BUDGET_MS);

      const inspected = JSON.parse(await docker(['inspect', CONTAINER]))[0] as {
        HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[]; SecurityOpt: string[] };
      };
      expect(inspected.HostConfig).toMatchObject({ ReadonlyRootfs: true, CapDrop: ['ALL'] });
      expect(await docker(['exec', CONTAINER, 'id', '-u'])).toBe('1000');
      expect(await docker(['exec', CONTAINER, 'grep', '^NoNewPrivs', '/proc/1/status'])).toMatch(/NoNewPrivs:\s+1/);
      expect(await docker(['exec', CONTAINER, 'grep', '^CapEff', '/proc/1/status'])).toMatch(/CapEff:\s+0+$/);
      await expect(docker(['exec', CONTAINER, 'touch', '/app/written'])).rejects.toThrow(/Read-only file system/);
      await docker(['exec', CONTAINER, 'touch', '/tmp/written']);
    },
    STARTUP_BUDGET_MS + 60_000,
  );

  it("should answer the README's curl example", async () => {
    const answer = await sendCurl(url, readmeCurl('/v1/inference/sentiment_analysis'));
    expect(answer).toMatchObject({ status: 200, body: { sentiment: 'NEGATIVE' } });
    expect((answer.body as { confidence: number }).confidence).toBeGreaterThan(0.5);
  });

  it('should turn healthy by its Docker HEALTHCHECK', async () => {
    const status = async () => docker(['inspect', '--format', '{{.State.Health.Status}}', CONTAINER]);
    const seen = await waitFor('healthy', async () => ((await status()) === 'healthy' ? true : undefined), 60_000, 500);
    expect(seen).toBe(true);
  }, 70_000);

  it('should answer every request in flight on docker stop, then exit 0 well inside the grace period', async () => {
    const sentences = Array.from({ length: 64 }, (_, i) => `${SENTENCES[i % SENTENCES.length]} ${i}`);
    const body = JSON.stringify({ sentences });
    let answered = 0;
    // 15 × 64 sentences: under the default BATCH_QUEUE_LIMIT (1,024 waiting sentences), so none is refused.
    const requests = Array.from({ length: 15 }, async () => {
      const res = await fetch(`${url}/v1/inference/sentiment_analysis/batch`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
      });
      const json = (await res.json()) as { predictions?: unknown[] };
      answered++;
      return { status: res.status, predictions: json.predictions?.length };
    });
    await sleep(20);
    const answeredBeforeStop = answered;
    const stop = await (async () => {
      const started = performance.now();
      await docker(['stop', '--time', String(GRACE_S), CONTAINER], (GRACE_S + 30) * 1000);
      return performance.now() - started;
    })();
    const results = await Promise.all(requests);
    figures.stop = `${(stop / 1000).toFixed(2)} s with ${results.length - answeredBeforeStop} requests in flight`;
    expect(answeredBeforeStop).toBeLessThan(results.length);
    expect(results.filter((r) => r.status !== 200 || r.predictions !== 64)).toEqual([]);
    expect(await docker(['inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', CONTAINER])).toBe(
      '0 false',
    );
    expect(stop).toBeLessThan((GRACE_S * 1000) / 3);
  }, 120_000);
});
