/**
 * Hostile clients against the real process (`node dist/main.js`):
 * - connections that pipeline thousands of requests and never read an answer, then vanish, round after round. The
 *   process must let go of them (memory back to a level, not growing per round) and stay alive. Before the drain
 *   tracked requests per connection, each round kept about 140 MB (207 → 640 MB in three rounds);
 * - 200 concurrent batches of the largest accepted size (64 sentences × 2,000 characters): what the queue cannot take
 *   is refused before it is validated or tokenized, and the admitted batches are tokenized off the main thread, so
 *   the 429s come early and the liveness probe keeps answering. Measured on 2 CPUs with this client on the same CPUs:
 *   429s at 4.1–4.5 s median before (every batch was tokenized first); after, 0.37–1.35 s in this suite (after the
 *   pipelining rounds, jest on the same CPUs), and 0.18–0.35 s per round in `npm run bench:overload` (median 237 ms,
 *   against 52 ms for a bare node:http server that reads the body and refuses).
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { flood, floodMessages, refusalMedian } from '../bench/lib/flood.js';
import { freePort, spawnService, waitFor, type ServiceProcess } from './support/service-process.js';

const CONNECTIONS = 5;
const REQUESTS_PER_CONNECTION = 20_000;
const ROUNDS = 4;

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));

describe('hostile clients', () => {
  let service: ServiceProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    service = spawnService({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
    await waitFor(`${service.url}/health/ready`, 200, 60_000);
  }, 180_000);
  afterAll(async () => {
    service.child.kill('SIGTERM');
    await service.exited;
  });

  it('should release what each round held, and stay alive', async () => {
    const pid = service.child.pid!;
    const after: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const sockets = Array.from({ length: CONNECTIONS }, () => connect(port, '127.0.0.1'));
      for (const socket of sockets) {
        socket.on('error', () => undefined);
        socket.pause();
        socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(REQUESTS_PER_CONNECTION));
      }
      await sleep(4000);
      for (const socket of sockets) {
        socket.destroy();
      }
      await sleep(3000);
      after.push(rssMb(pid));
    }
    // A leak grows every round (about 140 MB per round before the fix). Without one, RSS reaches a plateau as V8's
    // heap grows to its working size: on Node 24 that took one round (405, 511, 510 MB), and once the service answered
    // faster (more requests served per round before the connections go), three (six rounds: 409, 461, 483, 499, 501,
    // 501 MB; one CI run: 384, 399, 467; alone, later: 395, 436, 528, 530 and 398, 440, 532, 532, and once over 150 MB
    // in a full jest run). So: four rounds, the last adds under 80 MB, and the whole run under 200 MB, which a leak of
    // 70 MB a round already exceeds.
    console.log(`RSS after each round (MB): ${after.map(Math.round).join(', ')}`);
    expect(after.at(-1)! - after.at(-2)!).toBeLessThan(80);
    expect(after.at(-1)! - after[0]!).toBeLessThan(200);
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
    expect(service.child.exitCode).toBeNull();
  }, 90_000);

  it('should refuse 200 concurrent maximum-size batches it cannot queue at once, staying live', async () => {
    const messages = floodMessages('/v1/inference/sentiment_analysis/batch');
    let probing = true;
    const probes: number[] = [];
    const probe = (async () => {
      while (probing) {
        const started = performance.now();
        const res = await fetch(`${service.url}/health/live`);
        await res.arrayBuffer();
        probes.push(performance.now() - started);
        await sleep(50);
      }
    })();
    const results = await flood(port, messages);
    probing = false;
    await probe;
    const refused = results.filter((r) => r.status === 429);
    const median = refusalMedian(results);
    console.log(
      `200 maximum-size batches: ${results.length - refused.length} answered, ${refused.length} refused (429, median ` +
        `${median.toFixed(0)} ms); /health/live: ${probes.length} probes, slowest ${Math.max(...probes).toFixed(0)} ms`,
    );
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([200, 429]));
    expect(results.filter((r) => r.status === 429).every((r) => Number(r.retryAfter) >= 1)).toBe(true);
    // The bound leaves room for a loaded CI machine (figures above).
    expect(median).toBeLessThan(2000);
    expect(Math.max(...probes)).toBeLessThan(1000);
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
  }, 60_000);
});
