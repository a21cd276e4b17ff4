import helmet from 'helmet';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { helmetHeaders } from './http-security.js';

/** What helmet's own middleware sets on a real Node response to `req`. */
function helmetOnRealResponse(req: Partial<IncomingMessage>, options?: Parameters<typeof helmet>[0]) {
  const incoming = Object.assign(new IncomingMessage(new Socket()), req);
  const res = new ServerResponse(incoming);
  res.setHeader('X-Powered-By', 'something');
  let nextCalled = false;
  helmet(options)(incoming, res, () => (nextCalled = true));
  expect(nextCalled).toBe(true);
  return Object.fromEntries(Object.entries(res.getHeaders()).map(([name, value]) => [name, String(value)]));
}

const REQUESTS: Partial<IncomingMessage>[] = [
  { method: 'POST', url: '/v1/inference/sentiment_analysis', headers: { 'content-type': 'application/json' } },
  { method: 'GET', url: '/health/ready', headers: {} },
  { method: 'GET', url: '/docs', headers: { 'user-agent': 'Mozilla/5.0 (MSIE 8.0)', 'x-forwarded-proto': 'http' } },
  { method: 'OPTIONS', url: '/x?y=1', headers: { origin: 'https://evil.example', host: 'example.com' } },
];

describe('helmetHeaders', () => {
  it.each([undefined, { contentSecurityPolicy: false }])(
    'should equal what helmet sets on every request (options %j), recorded once',
    (options) => {
      const recorded = helmetHeaders(options);
      for (const req of REQUESTS) {
        expect(helmetOnRealResponse(req, options)).toEqual(recorded);
      }
    },
  );

  it('should carry a strict CSP by default and none for the docs pages, and drop X-Powered-By', () => {
    expect(helmetHeaders()['content-security-policy']).toContain("default-src 'self'");
    expect(helmetHeaders({ contentSecurityPolicy: false })).not.toHaveProperty('content-security-policy');
    expect(helmetHeaders()['x-content-type-options']).toBe('nosniff');
    expect(helmetHeaders()).not.toHaveProperty('x-powered-by');
  });

  it('should refuse to record options that make helmet fail', () => {
    const invalid = { contentSecurityPolicy: { directives: { scriptSrc: [() => "'self'; evil"] } } };
    expect(() => helmetHeaders(invalid)).toThrow(/scriptSrc|script-src|invalid/i);
  });
});
