/**
 * docker-compose.yml, up for real: the file unchanged, only TF_SERVING_IMAGE pointing at the TF Serving stand-in
 * image (tensorflow/serving cannot be pulled here; the stand-in takes its entrypoint and command line). Both versions
 * answer the README's curl alike; TF Serving stopped and started again: v2 fails fast and recovers by itself while
 * v1 and readiness stay up; `docker compose down` stops the API with exit code 0. Skips without an engine
 * (DEPLOY_CHECKS=required, as in CI, makes that a failure). The compose project is removed even when a test fails.
 */
import { spawn } from 'node:child_process';
import { REPO_ROOT } from '../support/app.js';
import { APP_VERSION, buildServiceImage, buildStandInImage, docker, run, waitFor } from '../support/docker.js';
import { readmeCurl, sendCurl } from '../support/readme.js';
import { describeWhere, dockerUnavailable } from '../support/tools.js';

const PROJECT = `sentiment-analysis-test-${process.pid}`;
const STAND_IN_IMAGE = 'tf-serving-stand-in:test';
const API = 'http://127.0.0.1:5001';
const ENV = { TF_SERVING_IMAGE: STAND_IN_IMAGE };

const compose = async (args: readonly string[], timeoutMs = 120_000) => {
  const result = await run('docker', ['compose', '-p', PROJECT, ...args], { timeoutMs, env: ENV });
  if (result.code !== 0) {
    throw new Error(`docker compose ${args.join(' ')} exited with ${result.code}:\n${result.stderr.slice(-4000)}`);
  }
  return { out: result.stdout.trim(), ms: result.ms };
};

/** One request, timed. */
async function timed(path: string, init?: RequestInit): Promise<{ status: number; ms: number; body: unknown }> {
  const started = performance.now();
  const res = await fetch(`${API}${path}`, { ...init, signal: AbortSignal.timeout(15_000) });
  const body = await res.json();
  return { status: res.status, ms: performance.now() - started, body };
}

describeWhere(dockerUnavailable(), 'docker-compose.yml on a real Docker engine (TF Serving stand-in image)', () => {
  const figures: Record<string, string> = {};
  const v1 = readmeCurl('/v1/inference/sentiment_analysis');
  const v2 = readmeCurl('/v2/inference/sentiment_analysis');

  beforeAll(async () => {
    await compose(['down', '--remove-orphans', '--timeout', '1']).catch(() => undefined);
    await buildStandInImage(STAND_IN_IMAGE);
    // The API image under the tag the compose file names, built with `docker build --network host` (compose's own
    // build has no host network here, so its RUN steps cannot reach the npm registry); then up, as the README says,
    // until both healthchecks pass.
    await buildServiceImage(`sentiment-analysis:${APP_VERSION}`);
    const up = await compose(['up', '--detach', '--wait', '--wait-timeout', '300'], 6 * 60_000);
    figures.up = `${(up.ms / 1000).toFixed(1)} s to healthy`;
  }, 20 * 60_000);

  afterAll(async () => {
    await compose(['down', '--remove-orphans', '--timeout', '1']).catch(() => undefined);
    console.log(
      `compose: ${Object.entries(figures)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }, 60_000);

  it("should answer the README's curl on v1 and v2 with the same label, confidences within 1e-5", async () => {
    const [a, b] = [await sendCurl(API, v1), await sendCurl(API, v2)];
    expect([a.status, b.status]).toEqual([200, 200]);
    const [one, two] = [a.body, b.body] as { sentiment: string; confidence: number }[];
    expect(two!.sentiment).toBe(one!.sentiment);
    expect(Math.abs(two!.confidence - one!.confidence)).toBeLessThanOrEqual(1e-5);
    figures.agreement = `v1 ${one!.sentiment} ${one!.confidence}, v2 ${two!.confidence}`;
  });

  it('should fail v2 fast when TF Serving stops, keep v1 and readiness up, and recover v2 by itself', async () => {
    const stop = await compose(['stop', 'tf-serving'], 60_000);
    figures.tfServingStop = `${(stop.ms / 1000).toFixed(1)} s`;
    const init = { method: v2.method, headers: v2.headers, body: v2.body! };
    const down = await timed(v2.path, init);
    expect({ status: down.status, fast: down.ms < 1000 }).toEqual({ status: 503, fast: true });
    expect((await timed(v1.path, { method: v1.method, headers: v1.headers, body: v1.body! })).status).toBe(200);
    expect((await timed('/health/ready')).status).toBe(200);
    expect((await timed('/health/dependencies')).status).toBe(503);
    figures.v2WhileDown = `${down.status} in ${down.ms.toFixed(0)} ms`;

    await compose(['start', 'tf-serving'], 60_000);
    const started = performance.now();
    await waitFor(
      'v2 answers 200 again',
      async () => ((await timed(v2.path, init)).status === 200 ? true : undefined),
      10_000,
      100,
    );
    figures.v2Recovered = `${((performance.now() - started) / 1000).toFixed(1)} s after start`;
    expect(performance.now() - started).toBeLessThan(10_000);
  }, 90_000);

  it('should stop the API with exit code 0 on docker compose down', async () => {
    const api = (await compose(['ps', '--quiet', 'api'])).out;
    expect(api).toMatch(/^[0-9a-f]{12,}$/);
    // The container is removed by `down`: its exit code is read from the engine's die event.
    const events = spawn(
      'docker',
      ['events', '--filter', `container=${api}`, '--filter', 'event=die', '--format', '{{.Actor.Attributes.exitCode}}'],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    const exitCode = new Promise<string>((resolve) =>
      events.stdout.setEncoding('utf8').once('data', (chunk: string) => resolve(chunk.trim())),
    );
    // Give `docker events` time to subscribe before the container dies.
    await new Promise((wake) => setTimeout(wake, 1000));
    try {
      const down = await compose(['down'], 120_000);
      figures.down = `${(down.ms / 1000).toFixed(1)} s`;
      expect(
        await Promise.race([exitCode, new Promise((resolve) => setTimeout(() => resolve('no die event'), 10_000))]),
      ).toBe('0');
    } finally {
      events.kill();
    }
    expect(await docker(['ps', '--all', '--quiet', '--filter', `label=com.docker.compose.project=${PROJECT}`])).toBe(
      '',
    );
  }, 150_000);
});
