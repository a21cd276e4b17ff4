import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DeadlineExceededError } from '../errors/index.js';
import { markArrival, requestSignal } from './request-deadline.js';

const request = () => ({ headers: {} }) as IncomingMessage;
const response = () => Object.assign(new EventEmitter(), { writableFinished: false }) as unknown as ServerResponse;
const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));
const abortedAfter = (signal: AbortSignal, started: number) =>
  new Promise<number>((done) => signal.addEventListener('abort', () => done(performance.now() - started)));

describe('requestSignal', () => {
  it('should count the deadline from the arrival of the request, not from when the handler asks', async () => {
    const req = request();
    markArrival(req, 10_000);
    await sleep(150);
    const started = performance.now();
    const signal = requestSignal(req, response(), 200);
    const waited = await abortedAfter(signal, started);
    expect(signal.reason).toBeInstanceOf(DeadlineExceededError);
    // 200 ms from arrival, 150 of them already gone.
    expect(waited).toBeLessThan(120);
  });

  it('should abort at once a request whose deadline passed while it was received, and count from now unmarked', async () => {
    const late = request();
    markArrival(late, 10_000);
    await sleep(60);
    const signal = requestSignal(late, response(), 50);
    await sleep(0);
    expect(signal.aborted).toBe(true);
    const started = performance.now();
    const unmarked = requestSignal(request(), response(), 80);
    expect(await abortedAfter(unmarked, started)).toBeGreaterThanOrEqual(70);
  });
});
