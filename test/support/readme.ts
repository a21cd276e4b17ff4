/** The README's curl examples, read from the README itself, so the deployment tests send what users copy. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from './app.js';

export interface CurlExample {
  readonly method: string;
  /** Path and query, without scheme and host. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

const unquote = (word: string) => word.replace(/^'(.*)'$/s, '$1');

/** The first curl command of the README whose URL path is `path`, continuation lines joined. */
export function readmeCurl(path: string): CurlExample {
  const text = readFileSync(resolve(REPO_ROOT, 'README.md'), 'utf8').replace(/\\\n\s*/g, ' ');
  for (const line of text.split('\n')) {
    const words = line.trim().match(/'[^']*'|\S+/g) ?? [];
    if (words[0] !== 'curl') {
      continue;
    }
    const example: { method: string; path?: string; headers: Record<string, string>; body?: string } = {
      method: 'GET',
      headers: {},
    };
    for (let i = 1; i < words.length; i++) {
      const word = unquote(words[i]!);
      if (word === '-X') {
        example.method = unquote(words[++i]!);
      } else if (word === '-H') {
        const header = unquote(words[++i]!);
        example.headers[header.slice(0, header.indexOf(':')).trim()] = header.slice(header.indexOf(':') + 1).trim();
      } else if (word === '-d') {
        example.body = unquote(words[++i]!);
        example.method = example.method === 'GET' ? 'POST' : example.method;
      } else if (/^https?:\/\//.test(word)) {
        const url = new URL(word);
        example.path = url.pathname + url.search;
      } else if (word.startsWith('#')) {
        break;
      }
    }
    if (example.path === path) {
      return { method: example.method, path, headers: example.headers, body: example.body };
    }
  }
  throw new Error(`README.md has no curl example for ${path}`);
}

/** Sends a README example to `baseUrl`; returns the status and the parsed JSON body. */
export async function sendCurl(baseUrl: string, example: CurlExample): Promise<{ status: number; body: unknown }> {
  const res = await fetch(baseUrl + example.path, {
    method: example.method,
    headers: example.headers,
    ...(example.body === undefined ? {} : { body: example.body }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.json() };
}
