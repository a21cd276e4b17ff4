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

/** A curl example with the answer the README shows under it (the JSON of a `# {...}` line), if it shows one. */
export interface ShownExample extends CurlExample {
  readonly shown: string | undefined;
}

/** Every curl command of the README (continuation lines joined), in order, with the answer shown under each. */
export function readmeCurls(): ShownExample[] {
  const text = readFileSync(resolve(REPO_ROOT, 'README.md'), 'utf8').replace(/\\\n\s*/g, ' ');
  const lines = text.split('\n');
  const examples: ShownExample[] = [];
  lines.forEach((line, index) => {
    const words = line.trim().match(/'[^']*'|\S+/g) ?? [];
    if (words[0] !== 'curl') {
      return;
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
    if (example.path !== undefined) {
      const shown = /^#\s*(\{.*\})/.exec(lines[index + 1]?.trim() ?? '')?.[1];
      examples.push({
        method: example.method,
        path: example.path,
        headers: example.headers,
        body: example.body,
        shown,
      });
    }
  });
  return examples;
}

/** A ```js block of the README, and the output it shows in its last line (`// <status> <json>`). */
export interface ScriptExample {
  readonly code: string;
  readonly status: number;
  readonly shown: string;
}

export function readmeScripts(): ScriptExample[] {
  const text = readFileSync(resolve(REPO_ROOT, 'README.md'), 'utf8');
  return [...text.matchAll(/```js\n([\s\S]*?)```/g)].map(([, code]) => {
    const output = /\/\/ (\d{3}) (\{.*\})\s*$/.exec(code!);
    if (!output) {
      throw new Error(`a js block of README.md does not end with the output it shows: ${code}`);
    }
    return { code: code!, status: Number(output[1]), shown: output[2]! };
  });
}

/** The first curl command of the README whose URL path is `path`. */
export function readmeCurl(path: string): CurlExample {
  const example = readmeCurls().find((candidate) => candidate.path === path);
  if (example === undefined) {
    throw new Error(`README.md has no curl example for ${path}`);
  }
  return example;
}

/**
 * The differences between a real answer and the one shown: same keys and values, numbers equal to the digits shown
 * (0.9705 matches 0.97053…, not 0.9712…). Empty when they agree.
 */
export function differences(shown: unknown, actual: unknown, at = '$'): string[] {
  if (typeof shown === 'number') {
    const digits = (String(shown).split('.')[1] ?? '').length;
    return typeof actual === 'number' && actual.toFixed(digits) === shown.toFixed(digits)
      ? []
      : [`${at}: shown ${shown}, answered ${String(actual)}`];
  }
  if (Array.isArray(shown)) {
    if (!Array.isArray(actual) || actual.length !== shown.length) {
      return [`${at}: shown ${JSON.stringify(shown)}, answered ${JSON.stringify(actual)}`];
    }
    return shown.flatMap((item, i) => differences(item, actual[i], `${at}[${i}]`));
  }
  if (shown !== null && typeof shown === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
      return [`${at}: shown an object, answered ${JSON.stringify(actual)}`];
    }
    const keys = new Set([...Object.keys(shown), ...Object.keys(actual)]);
    return [...keys].flatMap((key) =>
      differences((shown as Record<string, unknown>)[key], (actual as Record<string, unknown>)[key], `${at}.${key}`),
    );
  }
  return shown === actual ? [] : [`${at}: shown ${JSON.stringify(shown)}, answered ${JSON.stringify(actual)}`];
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
