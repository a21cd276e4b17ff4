/**
 * Where a request's CPU goes, from the V8 profiles of every thread of a process (`node --cpu-prof`: one
 * `.cpuprofile` per thread): self time in a window, grouped into the stages of the request path, in µs per request.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { forEachSample, type ProfileNode } from './cpu-profile.js';

/** The stages, in the order of the request path; the first rule that matches a frame decides. */
const STAGES: readonly (readonly [string, (url: string, fn: string) => boolean])[] = [
  ['ONNX Runtime (the model)', (url) => /onnxruntime-(node|common)/.test(url)],
  [
    'hop to a worker and back',
    (url, fn) => fn === 'postMessage' || /node:internal\/(worker|per_context\/messageport)/.test(url),
  ],
  ['tokenization', (url) => /@huggingface\/tokenizers|\/tokenizers\/|tokenizer\.js/.test(url)],
  // The peer's pipeline: its tokenizer and its pre- and post-processing are one bundle.
  ['transformers.js (the peer: tokenizer, pipeline)', (url) => url.includes('/@huggingface/transformers/')],
  ['validation (class-validator, class-transformer)', (url) => /class-(validator|transformer)/.test(url)],
  ['request logs (pino)', (url) => /\/(pino|pino-http|nestjs-pino|sonic-boom)\//.test(url)],
  ['metrics (prom-client)', (url) => url.includes('/prom-client/')],
  ['Nest (router, guards, pipes, filter)', (url) => url.includes('/@nestjs/')],
  [
    'HTTP (Fastify, node:http, sockets, JSON)',
    (url, fn) =>
      /\/(fastify|find-my-way|@fastify\/[^/]+|secure-json-parse|fast-json-stringify|light-my-request)\//.test(url) ||
      /^node:(_http|net|internal\/(http|streams|stream_base_commons|url))/.test(url) ||
      ['writeUtf8String', 'writev', 'writeString', 'writeBuffer', 'read', 'readStart'].includes(fn),
  ],
  ["the server's own code (dist/, the peer's script)", (url) => /\/dist\/|\/bench\/servers\//.test(url)],
  ['garbage collection', (_url, fn) => fn === '(garbage collector)'],
];
const OTHER = 'other (Node core, promises, timers, V8)';

export const BREAKDOWN_STAGES = [...STAGES.map(([name]) => name), OTHER];

function stageOf(node: ProfileNode): string | null {
  const { url, functionName } = node.callFrame;
  if (functionName === '(idle)' || functionName === '(program)' || functionName === '(root)') {
    return null;
  }
  return STAGES.find(([, matches]) => matches(url, functionName))?.[0] ?? OTHER;
}

/**
 * µs of CPU per request by stage, over the last `windowMs` before each profile's end less `tailMs` (the time the
 * process took to exit after the measured run), for `requests` requests answered in that window.
 */
export function requestBreakdown(
  dir: string,
  windowMs: number,
  tailMs: number,
  requests: number,
): Record<string, number> {
  const totals = new Map<string, number>(BREAKDOWN_STAGES.map((stage) => [stage, 0]));
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'))) {
    const samples: [stage: string, deltaUs: number, atUs: number][] = [];
    const end = forEachSample(join(dir, file), (node, delta, at) => {
      const stage = stageOf(node);
      if (stage !== null) {
        samples.push([stage, delta, at]);
      }
    });
    const to = end - tailMs * 1000;
    const from = to - windowMs * 1000;
    for (const [stage, delta] of samples.filter(([, , at]) => at >= from && at <= to)) {
      totals.set(stage, (totals.get(stage) ?? 0) + delta);
    }
  }
  return Object.fromEntries([...totals].map(([stage, us]) => [stage, us / Math.max(1, requests)]));
}
