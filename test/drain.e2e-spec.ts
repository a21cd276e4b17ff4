/**
 * Graceful drain of the real process (`node dist/main.js`) under steady keep-alive load: on SIGTERM readiness turns
 * 503 at once, every request the service accepted gets a complete 200 answer, new connections are refused once
 * it has drained, and the process exits 0.
 */
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { freePort, spawnService, waitFor, type ServiceProcess } from './support/service-process.js';
import { StandInProcess } from './support/tf-serving/stand-in.handle.js';

type Outcome = 'ok' | 'refused' | `failed: ${string}`;

const SENTENCES = Array.from(
  { length: 16 },
  (_, i) => `review number ${i}: the plot was thin but the acting was great`,
);

/** One JSON POST on `agent`; 'ok' only when `accept` likes the complete answer. */
function postJson(
  agent: Agent,
  port: number,
  path: string,
  payload: unknown,
  accept: (status: number | undefined, text: string) => boolean,
): Promise<Outcome> {
  const body = JSON.stringify(payload);
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', (error) => resolve(`failed: response ${error.message}`));
        res.on('end', () =>
          resolve(accept(res.statusCode, text) ? 'ok' : `failed: ${res.statusCode} ${text.slice(0, 200)}`),
        );
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'ECONNREFUSED' ? 'refused' : `failed: ${error.code ?? error.message}`),
    );
    req.end(body);
  });
}

/** A v1 batch; 'ok' only for a 200 whose whole JSON body arrived with one prediction per sentence. */
function post(agent: Agent, port: number): Promise<Outcome> {
  return postJson(agent, port, '/v1/inference/sentiment_analysis/batch', { sentences: SENTENCES }, (status, text) => {
    try {
      return (
        status === 200 && (JSON.parse(text) as { predictions?: unknown[] }).predictions?.length === SENTENCES.length
      );
    } catch {
      return false;
    }
  });
}

/** One v2 request; 'ok' for a 200 with a sentiment. */
function fetchV2(agent: Agent, port: number, sentence: string): Promise<Outcome> {
  return postJson(
    agent,
    port,
    '/v2/inference/sentiment_analysis',
    { sentence },
    (status, text) => status === 200 && text.includes('"sentiment"'),
  );
}

/** A connection attempt: 'refused' once nothing listens. */
function connectOutcome(port: number): Promise<Outcome> {
  return post(new Agent({ keepAlive: false }), port);
}

/** The built service on a free loopback port with `env` on top of quiet logs; resolves once it is ready. */
async function startReady(env: Record<string, string>): Promise<{ port: number; service: ServiceProcess }> {
  const port = await freePort();
  const service = spawnService({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env });
  await waitFor(`http://127.0.0.1:${port}/health/ready`);
  return { port, service };
}

describe('graceful drain on SIGTERM', () => {
  it('should answer every accepted request under steady keep-alive load, turn readiness (not liveness) 503 at once, and exit 0', async () => {
    const { port, service } = await startReady({
      SHUTDOWN_DELAY_MS: '1500',
      SHUTDOWN_TIMEOUT_MS: '10000',
      TF_SERVING_URL: 'http://127.0.0.1:9',
    });

    // Eight clients on keep-alive connections, behind a "load balancer" that stops routing new requests here
    // once the readiness probe answers 503 (as a Kubernetes Service does).
    const outcomes: Outcome[] = [];
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    let routable = true;
    const clients = Array.from({ length: 8 }, async () => {
      while (routable) {
        outcomes.push(await post(agent, port));
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    const beforeSignal = outcomes.length;
    service.child.kill('SIGTERM');
    const signalled = Date.now();
    let readiness = await fetch(`http://127.0.0.1:${port}/health/ready`);
    while (readiness.status === 200 && Date.now() - signalled < 1000) {
      await new Promise((r) => setTimeout(r, 50));
      readiness = await fetch(`http://127.0.0.1:${port}/health/ready`);
    }
    expect(readiness.status).toBe(503);
    expect(Date.now() - signalled).toBeLessThan(1000);
    // Liveness stays 200 while the pod drains: the kubelet would kill a pod whose liveness fails, mid-drain.
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300)); // the balancer notices a moment later
    routable = false;
    await Promise.all(clients);

    expect(await service.exited).toBe(0);
    expect(await connectOutcome(port)).toBe('refused');
    agent.destroy();
    expect(outcomes.filter((o) => o !== 'ok')).toEqual([]);
    expect(beforeSignal).toBeGreaterThan(8);
    expect(outcomes.length - beforeSignal).toBeGreaterThan(8);
  }, 60_000);

  it('should answer every request sent before SIGTERM, even with no shutdown delay: no reset, no foreign 503', async () => {
    const { port, service } = await startReady({ SHUTDOWN_DELAY_MS: '0', TF_SERVING_URL: 'http://127.0.0.1:9' });
    const body = JSON.stringify({ sentence: 'this is a perfectly fine sentence to classify' });
    const head = `POST /v1/inference/sentiment_analysis HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n`;
    const message = `${head}Content-Length: ${body.length}\r\n\r\n${body}`;
    // 200 open connections; each sends one request, and the signal follows at once.
    const sockets = await Promise.all(
      Array.from(
        { length: 200 },
        () =>
          new Promise<Socket>((open) => {
            const socket = connect(port, '127.0.0.1', () => open(socket));
          }),
      ),
    );
    const outcomes = sockets.map(
      (socket) =>
        new Promise<string>((done) => {
          let text = '';
          socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          socket.on('error', (error: NodeJS.ErrnoException) => done(`error ${error.code ?? error.message}`));
          socket.on('close', () => done(text === '' ? 'closed without an answer' : text));
        }),
    );
    for (const socket of sockets) {
      socket.write(message);
    }
    service.child.kill('SIGTERM');
    const answers = await Promise.all(outcomes);
    const statusLines = answers.map((answer) => answer.split('\r\n')[0]);
    // Before: 31–126 of them reset, and one 503 in Fastify's body without a request id.
    expect(statusLines.filter((line) => line !== 'HTTP/1.1 200 OK')).toEqual([]);
    // Each connection got its classification (a request answered before the signal was seen keeps its connection
    // alive until the server closes it, so `Connection: close` is not asked of every answer).
    expect(answers.filter((answer) => !answer.includes('"sentiment"'))).toEqual([]);
    expect(await service.exited).toBe(0);
  }, 60_000);

  it('should finish the requests in progress and queued when the server closes, then refuse connections', async () => {
    const tfServing = await StandInProcess.start();
    const port = await freePort();
    const service = spawnService({
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SHUTDOWN_DELAY_MS: '0',
      SHUTDOWN_TIMEOUT_MS: '10000',
      TF_SERVING_URL: tfServing.url,
      BATCH_CONCURRENCY_V2: '1',
      BATCH_MAX_SIZE: '1',
    });
    try {
      await waitFor(`http://127.0.0.1:${port}/health/ready`);
      await waitFor(`http://127.0.0.1:${port}/health/dependencies`);
      await tfServing.setFaults({ delayMs: 400 });
      // Four v2 requests on keep-alive connections: one in TF Serving, three queued behind it (~1.6 s in all).
      const agent = new Agent({ keepAlive: true });
      const answers = Array.from({ length: 4 }, (_, i) => fetchV2(agent, port, `sentence ${i}`));
      await new Promise((r) => setTimeout(r, 200));
      service.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      expect(await connectOutcome(port)).toBe('refused');
      expect(await Promise.all(answers)).toEqual(['ok', 'ok', 'ok', 'ok']);
      expect(await service.exited).toBe(0);
      agent.destroy();
    } finally {
      service.child.kill('SIGKILL');
      await tfServing.close();
    }
  }, 60_000);
});
