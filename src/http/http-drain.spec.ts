import { type Server, createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { loadConfig } from '../config/index.js';
import { HttpDrain } from './http-drain.service.js';

/** Waits until `check` holds (polling), or fails after `ms`. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }
    await new Promise((wake) => setTimeout(wake, 10));
  }
}

describe(HttpDrain.name, () => {
  let server: Server;
  let drain: HttpDrain;
  let seen = 0;
  beforeEach(async () => {
    drain = new HttpDrain(loadConfig({}));
    seen = 0;
    // Never answers: every request stays in progress until its connection goes.
    server = createServer((req, res) => {
      seen++;
      drain.track(req, res);
    });
    drain.attach(server);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  it('should release every request of a pipelining connection when it dies, the queued ones included', async () => {
    const { port } = server.address() as AddressInfo;
    const client = connect(port, '127.0.0.1');
    await new Promise((done) => client.once('connect', done));
    // A client that pipelines many requests and reads no answer.
    client.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(200));
    await until(() => seen >= 50);
    expect(drain.requestsInProgress).toBe(seen);
    client.destroy();
    await until(() => drain.requestsInProgress === 0);
    expect(drain.requestsInProgress).toBe(0);
  });

  it('should count requests in progress across connections until they are answered', async () => {
    const { port } = server.address() as AddressInfo;
    const clients = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')];
    for (const client of clients) {
      client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    }
    await until(() => seen === 2);
    expect(drain.requestsInProgress).toBe(2);
    clients[0]!.destroy();
    await until(() => drain.requestsInProgress === 1);
    clients[1]!.destroy();
    await until(() => drain.requestsInProgress === 0);
  });
});
