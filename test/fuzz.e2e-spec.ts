import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fc from 'fast-check';
import { Agent, request as httpRequest } from 'node:http';
import { type AddressInfo, type Server, connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { TfServingStrategy } from '../src/inference/index.js';
import { REPO_ROOT, startApp } from './support/app.js';
import { StandInProcess } from './support/tf-serving/stand-in.handle.js';

/**
 * Property-based fuzzing of every endpoint of the real application (v1 on ONNX Runtime, v2 against the TF Serving
 * stand-in): thousands of random and hostile requests, each checked against the invariants every answer must keep
 * (never a 5xx unless TF Serving is down, JSON errors of one shape, no internals leaked), and, where the generator
 * knows the right answer, against that answer. Fixed seeds: a failure prints its seed and shrunk request, and
 * reruns the same way.
 */

const V1 = '/v1/inference/sentiment_analysis';
const V2 = '/v2/inference/sentiment_analysis';
const INFERENCE_ROUTES = [V1, `${V1}/batch`, V2, `${V2}/batch`] as const;
const ENDPOINTS = [
  ...INFERENCE_ROUTES,
  '/health/live',
  '/health/ready',
  '/health/dependencies',
  '/metrics',
  '/docs-json',
] as const;

/** The limits the app is started with (the defaults, set explicitly so the generators can aim at them). */
const BODY_LIMIT = 1024 * 1024;
const MAX_SENTENCE_LENGTH = 2000;
const MAX_BATCH_SIZE = 64;

const SEED = 20_240_611;
/** Rounds of the main property; memory is measured after each (the first is warm-up). */
const ROUNDS = 5;
const RUNS_PER_ROUND = 500;
/** Per round, requests carrying BALLAST_BYTES each: a service that kept every body would grow by all of them. */
const BALLAST_REQUESTS = 48;
const BALLAST_BYTES = 128 * 1024;
/** Allowed growth of heap + external memory (after full GCs) from the end of round 2 to the end of the last. */
const LEAK_BOUND = 12 * 1024 * 1024;
/** The same for RSS, which also holds ONNX Runtime's worker threads and allocator slack: only runaway growth. */
const RSS_BOUND = 256 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------------
// Requests and the invariants of their answers

type Expectation =
  | { readonly kind: 'prediction' }
  | { readonly kind: 'predictions'; readonly count: number }
  | { readonly kind: 'status'; readonly status: number };

interface Case {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
  /** How the body was built, when the bytes are too many to print. */
  readonly note?: string;
  /** The right answer, when the generator knows it. */
  readonly expect?: Expectation;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly error?: string;
}

function describeCase(c: Case): string {
  const lines = [`${c.method} ${c.path}`, `headers: ${JSON.stringify(c.headers)}`];
  if (c.body !== undefined) {
    const preview = c.body.subarray(0, 160).toString('utf8');
    lines.push(`body (${c.body.length} bytes): ${JSON.stringify(preview)}${c.body.length > 160 ? '…' : ''}`);
    if (c.body.length <= 4096) {
      lines.push(`body bytes (base64): ${c.body.toString('base64')}`);
    }
  }
  if (c.note) {
    lines.push(`built as: ${c.note}`);
  }
  if (c.expect) {
    lines.push(`expected: ${JSON.stringify(c.expect)}`);
  }
  return lines.join('\n  ');
}

/** fast-check prints counterexamples with this instead of dumping megabytes of Buffer. */
function printable(c: Case): Case {
  return Object.assign(c, { [fc.toStringMethod]: () => `\n  ${describeCase(c)}\n` });
}

const agent = new Agent({ keepAlive: true, maxSockets: 32 });

function send(server: Server, c: Case): Promise<Answer> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: Answer) => {
      if (!settled) {
        settled = true;
        resolve(answer);
      }
    };
    // Node frames a GET, DELETE, OPTIONS or TRACE body only with an explicit Content-Length (no chunked default).
    const headers = c.body === undefined ? c.headers : { ...c.headers, 'Content-Length': String(c.body.length) };
    const req = httpRequest({ host: '127.0.0.1', port, method: c.method, path: c.path, headers, agent });
    req.setTimeout(20_000, () => req.destroy(new Error('no answer within 20 s')));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        done({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', (error) => done({ status: 0, headers: {}, text: '', error: String(error) }));
    });
    req.on('error', (error) => done({ status: 0, headers: {}, text: '', error: String(error) }));
    req.end(c.body);
  });
}

/** A stack frame, or a path of this checkout or its dependencies. */
const LEAK = new RegExp(`\\bat .*\\.(ts|js):\\d+|node_modules/|${REPO_ROOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);

interface CheckOptions {
  /** TF Serving is down or faulty: v2 routes and the dependency probe may answer 502, 503 or 504. */
  readonly upstreamDown?: boolean;
}

function isV2Route(path: string): boolean {
  return path === V2 || path === `${V2}/batch`;
}

/** Throws (with the request and answer) when an answer breaks a rule every answer must keep. */
function check(c: Case, a: Answer, options: CheckOptions = {}): void {
  const fail = (why: string): never => {
    throw new Error(
      `${why}\n  request: ${describeCase(c)}\n  answer: ${a.status} ${String(a.headers['content-type'])} ` +
        `${JSON.stringify(a.text.slice(0, 500))}${a.error ? `\n  transport error: ${a.error}` : ''}`,
    );
  };
  if (a.error) {
    fail('the request got no HTTP answer');
  }
  // Routes ignore case, a trailing slash and the query string (Fastify's router options in configureApp).
  const route = c.path.split('?')[0]!.replace(/\/+$/, '').toLowerCase();
  const upstreamStatus = [502, 503, 504].includes(a.status);
  const mayFailUpstream =
    options.upstreamDown && (isV2Route(route) || route === '/health/dependencies') && upstreamStatus;
  if (a.status >= 500 && !mayFailUpstream) {
    fail(`server error ${a.status}`);
  }
  if (a.status < 100 || a.status >= 600) {
    fail('not an HTTP status');
  }
  const type = String(a.headers['content-type'] ?? '');
  const sentId = c.headers['X-Request-Id'];
  const gotId = a.headers['x-request-id'];
  if (typeof gotId !== 'string' || !/^[\w.:@/+=-]{1,128}$/.test(gotId)) {
    fail('no valid X-Request-Id in the answer');
  }
  if (sentId !== undefined && /^[\w.:@/+=-]{1,128}$/.test(sentId) !== (gotId === sentId)) {
    fail('X-Request-Id: a valid one must be echoed, an invalid one replaced');
  }
  // Error messages may quote the request's path: only what the service adds counts.
  if (LEAK.test(a.text.split(c.path.split('?')[0]!).join(''))) {
    fail('the answer leaks a stack trace or a path');
  }
  if (c.method === 'HEAD') {
    if (a.text !== '') {
      fail('HEAD answered with a body');
    }
    return;
  }
  const isMetrics = route === '/metrics';
  const isDocsPage = route === '/docs' || route.startsWith('/docs/');
  if (a.status < 400 && (isMetrics || isDocsPage)) {
    return;
  }
  if (!/^application\/json\b/i.test(type)) {
    fail(`${a.status} answered with Content-Type ${type || '(none)'}, not application/json`);
  }
  let body: unknown;
  try {
    body = JSON.parse(a.text);
  } catch {
    fail('the body is not JSON');
  }
  if (a.status >= 400) {
    const isHealth = /^\/health\/(live|ready|dependencies)$/.test(route) && a.status === 503;
    const shape = body as { statusCode?: unknown; error?: unknown; message?: unknown; requestId?: unknown };
    if (!isHealth) {
      if (shape.statusCode !== a.status || typeof shape.error !== 'string' || typeof shape.message !== 'string') {
        fail('the error body does not have the {statusCode, error, message, requestId} shape');
      }
      if (typeof shape.requestId !== 'string' || shape.requestId !== a.headers['x-request-id']) {
        fail('the error body does not carry the X-Request-Id');
      }
    }
  }
  if (c.expect) {
    checkExpectation(c.expect, a.status, body, options.upstreamDown === true && isV2Route(route), fail);
  }
}

function checkExpectation(
  expected: Expectation,
  status: number,
  body: unknown,
  upstreamDown: boolean,
  fail: (why: string) => never,
): void {
  if (expected.kind === 'status') {
    if (status !== expected.status) {
      fail(`expected ${expected.status}`);
    }
    return;
  }
  if (upstreamDown && [502, 503, 504].includes(status)) {
    return;
  }
  if (status !== 200) {
    fail('expected 200 with predictions');
  }
  const isPrediction = (p: unknown) => {
    const { sentiment, confidence } = (p ?? {}) as { sentiment?: unknown; confidence?: unknown };
    return (
      (sentiment === 'NEGATIVE' || sentiment === 'POSITIVE') &&
      typeof confidence === 'number' &&
      confidence >= 0.5 &&
      confidence <= 1
    );
  };
  if (expected.kind === 'prediction') {
    if (!isPrediction(body)) {
      fail('expected {sentiment, confidence}');
    }
    return;
  }
  const predictions = (body as { predictions?: unknown }).predictions;
  if (!Array.isArray(predictions) || predictions.length !== expected.count || !predictions.every(isPrediction)) {
    fail(`expected ${expected.count} predictions`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Generators

/** Length in code points, as the service counts MAX_SENTENCE_LENGTH (a lone surrogate counts once). */
function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++;
    }
    n++;
  }
  return n;
}

function isValidSentence(value: unknown): value is string {
  return typeof value === 'string' && /\S/.test(value) && codePoints(value) <= MAX_SENTENCE_LENGTH;
}

const char = (min: number, max: number) => fc.integer({ min, max }).map((code) => String.fromCharCode(code));

/** Characters that break naive text handling: bidi controls, zero-width, NUL, lone surrogates, combining marks. */
const ODD_CHARACTERS = [
  '\u200f', // RIGHT-TO-LEFT MARK
  '\u200e',
  '\u202e', // RIGHT-TO-LEFT OVERRIDE
  '\u2066',
  '\u200b', // ZERO WIDTH SPACE
  '\u200c',
  '\u200d',
  '\u2060',
  '\ufeff',
  '\u0000',
  '\u0001',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u1680',
  '\u3000',
  '\u2028',
  '\u2029',
  '\ud800', // lone surrogates: JSON.stringify escapes them as \ud800
  '\udbff',
  '\udc00',
  '\udfff',
  '\ufffd',
  '\uffff',
  '\ufffe',
  '\u{10ffff}',
  '\u{e0001}',
  '\u0301',
  '\u0489',
  '😀',
  '👩‍👩‍👧‍👦',
  '🏳️‍🌈',
  '\u{1f1fa}\u{1f1f8}',
  'ß',
  'İ',
  'ﷺ',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'Z̤͔ͧ̑̓',
  '日本語',
  'العربية',
  'עברית',
  '[CLS]',
  '[SEP]',
  '[UNK]',
  '[PAD]',
  '##ing',
  '\\',
  '"',
  '%s',
  '${x}',
  '<script>',
  ' ',
  '\t',
  '\n',
  '\r\n',
];

const textUnit = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'the good bad movie was not great terrible fine a !?.,'.split(' ')) },
  { weight: 3, arbitrary: fc.constantFrom(...ODD_CHARACTERS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: char(0xd800, 0xdfff) },
  { weight: 1, arbitrary: char(0, 0x1f) },
);

/** Any text, valid as a sentence or not. */
const oddText = fc.string({ unit: textUnit, maxLength: 40 });

/** Text the service must classify: some non-whitespace, at most MAX_SENTENCE_LENGTH code points. */
const validSentence = fc.oneof(
  { weight: 12, arbitrary: oddText.filter(isValidSentence) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('a', 'é', '😀', '\ud800', '日', 'bad '), fc.integer({ min: 1, max: 3 }))
      .map(([unit, k]) => `x${unit.repeat(Math.floor((MAX_SENTENCE_LENGTH - 1) / codePoints(unit) / k))}`),
  },
);

/** Just over MAX_SENTENCE_LENGTH code points (the UTF-16 length of an emoji string is twice that). */
const tooLongSentence = fc
  .tuple(fc.constantFrom('a', 'é', '😀', '\ud800', ' x'), fc.integer({ min: 1, max: 50 }))
  .map(([unit, extra]) => unit.repeat(Math.ceil((MAX_SENTENCE_LENGTH + extra) / codePoints(unit))));

const notAString = fc.jsonValue({ maxDepth: 3 }).filter((value) => typeof value !== 'string');
const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.jsonValue({ maxDepth: 3, stringUnit: textUnit }),
  fc.constantFrom(1e308, -0, 0.1, 123456789012345680000, Number.MIN_VALUE),
);

/** Keys a body must not have: anything besides `sentence` (single) or `sentences` (batch). */
const extraKey = fc
  .oneof(
    fc.string({ maxLength: 12 }),
    fc.string({ unit: textUnit, maxLength: 6 }),
    fc.constantFrom('Sentence', 'SENTENCE', 'sentence ', ' sentence', 'sentences', 'text', 'toString', 'valueOf'),
  )
  .filter((key) => key !== 'sentence');

/** What is to be sent, and what a single or batch route must answer when it comes POSTed as application/json. */
interface Payload {
  readonly body?: Buffer;
  readonly note?: string;
  readonly single?: Expectation;
  readonly batch?: Expectation;
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');
const bad = { kind: 'status', status: 400 } as const;
const tooLarge = { kind: 'status', status: 413 } as const;
const json = (value: unknown): Payload => ({ body: utf8(JSON.stringify(value)) });

const validSingle = validSentence.map((sentence) => ({
  ...json({ sentence }),
  single: { kind: 'prediction' } as const,
  batch: bad,
}));

const validBatch = fc.array(validSentence, { minLength: 1, maxLength: 4 }).map((sentences): Payload => ({
  ...json({ sentences }),
  single: bad,
  batch: { kind: 'predictions', count: sentences.length },
}));

const fullBatch = fc.constantFrom(MAX_BATCH_SIZE, MAX_BATCH_SIZE + 1).map((n): Payload => ({
  ...json({ sentences: Array.from({ length: n }, (_, i) => `sentence ${i}`) }),
  single: bad,
  batch: n <= MAX_BATCH_SIZE ? { kind: 'predictions', count: n } : bad,
}));

const invalidFields = fc
  .oneof(
    tooLongSentence.map((sentence) => ({ sentence })),
    tooLongSentence.map((sentence) => ({ sentences: ['ok', sentence] })),
    notAString.map((sentence) => ({ sentence })),
    anyJson.filter((value) => !Array.isArray(value)).map((sentences) => ({ sentences })),
    fc.array(anyJson, { maxLength: 4 }).map((sentences) => ({ sentences: [...sentences, 1] })),
    fc.constantFrom(
      {},
      { sentence: '' },
      { sentence: ' \t\n\u00a0\u3000\u2028\ufeff' },
      { sentences: [] },
      { sentences: [' '] },
      { sentences: [null] },
      { sentence: 'a', sentences: ['a'] },
      [],
      [{ sentence: 'a' }],
    ),
    fc
      .tuple(validSentence, extraKey, anyJson)
      .map(([sentence, key, value]) => ({ sentence, [key]: value, sentences: [sentence] })),
  )
  .map((value): Payload => ({ ...json(value), single: bad, batch: bad }));

/** `{"sentence": ..., key: ...}` written out, so keys such as __proto__ arrive as they are in the text. */
const extraField = fc.tuple(validSentence, extraKey, anyJson).map(([sentence, key, value]): Payload => ({
  body: utf8(`{"sentence":${JSON.stringify(sentence)},${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}}`),
  single: bad,
  batch: bad,
}));

/** Prototype-pollution shapes. The answer may be 200 or 400; it must not be 5xx and must not pollute anything. */
const pollution = fc
  .tuple(
    fc.constantFrom('__proto__', 'constructor', 'prototype', '__defineGetter__', 'hasOwnProperty', 'toJSON'),
    fc.oneof(
      fc.constantFrom('{"polluted":"yes"}', '{"prototype":{"polluted":"yes"}}', 'null', '1', '"x"', '[]'),
      fc.constantFrom('{"sentence":"hijacked"}', '{"sentences":["hijacked"]}', '{"toString":"x","valueOf":1}'),
    ),
    fc.constantFrom('sentence', 'sentences'),
    fc.boolean(),
  )
  .map(([key, value, field, first]): Payload => {
    const own = field === 'sentence' ? '"this is fine"' : '["this is fine"]';
    const parts = [`"${field}":${own}`, `"${key}":${value}`];
    return { body: utf8(`{${(first ? parts.reverse() : parts).join(',')}}`) };
  });

/** `{"sentence":A,"sentence":B}`: JSON.parse keeps the last, so B decides the answer. */
const duplicateKeys = fc
  .tuple(fc.oneof(validSentence, notAString), fc.oneof(validSentence, notAString))
  .map(([first, last]): Payload => ({
    body: utf8(`{"sentence":${JSON.stringify(first)},"sentence":${JSON.stringify(last)}}`),
    single: isValidSentence(last) ? { kind: 'prediction' } : bad,
    batch: bad,
  }));

/** Any proper prefix of a JSON object is not JSON (the empty one is an empty body): 400 either way. */
const truncated = fc
  .tuple(fc.oneof(validSingle, validBatch, invalidFields), fc.double({ min: 0, max: 1 }))
  .map(([payload, at]): Payload => {
    const text = payload.body!.toString('utf8');
    const cut = Math.min(text.length - 1, Math.floor(at * text.length));
    return { body: utf8(text.slice(0, cut)), single: bad, batch: bad };
  });

/** Nesting far deeper than anything legitimate, still under the body limit. */
const deepNesting = fc
  .tuple(
    fc.constantFrom(64, 1_000, 10_000, 100_000),
    fc.constantFrom('top array', 'sentence array', 'sentences array', 'object', 'sentence object'),
  )
  .map(([depth, shape]): Payload => {
    const arrays = '['.repeat(depth) + ']'.repeat(depth);
    const objects = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const text = {
      'top array': arrays,
      'sentence array': `{"sentence":${arrays}}`,
      'sentences array': `{"sentences":${arrays}}`,
      object: objects,
      'sentence object': `{"sentence":${'{"sentence":'.repeat(depth)}"x"${'}'.repeat(depth)}}`,
    }[shape];
    return { body: utf8(text), note: `${shape} nested ${depth} deep`, single: bad, batch: bad };
  });

/**
 * Bodies around BODY_LIMIT: a too long sentence (400 under the limit, 413 over), or a valid sentence or batch padded
 * with whitespace (answered under the limit, 413 over), in one- and two-byte filler.
 */
const nearLimit = fc
  .tuple(fc.constantFrom('long sentence', 'padded', 'padded batch'), fc.integer({ min: -8, max: 8 }), fc.boolean())
  .map(([shape, delta, wide]): Payload => {
    const size = BODY_LIMIT + delta;
    let text: string;
    if (shape === 'long sentence') {
      const head = '{"sentence":"';
      const room = size - head.length - 2;
      text = `${head}${wide ? 'é'.repeat(Math.floor(room / 2)) + 'a'.repeat(room % 2) : 'a'.repeat(room)}"}`;
    } else {
      const head = shape === 'padded' ? '{"sentence":"bad movie"' : '{"sentences":["bad movie","good movie"]';
      const room = size - head.length - 1;
      text = `${head}${wide ? '\r\n'.repeat(Math.floor(room / 2)) + ' '.repeat(room % 2) : ' '.repeat(room)}}`;
    }
    const body = utf8(text);
    const fits = body.length <= BODY_LIMIT;
    const answer = (kind: 'single' | 'batch'): Expectation =>
      !fits
        ? tooLarge
        : shape === 'padded' && kind === 'single'
          ? { kind: 'prediction' }
          : shape === 'padded batch' && kind === 'batch'
            ? { kind: 'predictions', count: 2 }
            : bad;
    return {
      body,
      note: `${shape}, ${wide ? 'CRLF' : 'space'} filler, ${body.length} bytes (limit ${BODY_LIMIT})`,
      single: answer('single'),
      batch: answer('batch'),
    };
  });

const farOverLimit = fc.constantFrom(2, 4).map((times): Payload => ({
  body: utf8(`{"sentence":"${'b'.repeat(times * BODY_LIMIT)}"}`),
  note: `sentence of ${times} × BODY_LIMIT bytes`,
  single: tooLarge,
  batch: tooLarge,
}));

/** Bytes that are not UTF-8 (overlong, surrogates, beyond U+10FFFF, stray continuations, truncated sequences). */
const INVALID_UTF8 = [
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xff],
  [0xfe, 0xff],
  [0x80],
  [0xbf],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
  [0xc3],
];
const invalidUtf8Bytes = fc
  .array(fc.oneof(fc.constantFrom(...INVALID_UTF8), fc.array(fc.integer({ min: 0x80, max: 0xff }), { minLength: 1 })), {
    minLength: 1,
    maxLength: 6,
  })
  .map((parts) => Buffer.from(parts.flat()));

/** Invalid UTF-8 inside the sentence: JSON must be UTF-8, so a 400 (not U+FFFD, classified). */
const invalidUtf8InSentence = fc.tuple(fc.boolean(), invalidUtf8Bytes).map(([prefix, bytes]): Payload => ({
  body: Buffer.concat([utf8(prefix ? '{"sentence":"bad ' : '{"sentence":"'), bytes, utf8('"}')]),
  single: bad,
  batch: bad,
}));

const randomBytes = fc
  .oneof(
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    fc
      .tuple(fc.oneof(validSingle, validBatch, invalidFields), invalidUtf8Bytes, fc.double({ min: 0, max: 1 }))
      .map(([payload, bytes, at]) => {
        const at_ = Math.floor(at * payload.body!.length);
        return Buffer.concat([payload.body!.subarray(0, at_), bytes, payload.body!.subarray(at_)]);
      }),
  )
  .map((body): Payload => ({ body }));

const notJson = fc
  .oneof(
    fc.constantFrom(
      '',
      ' ',
      '\n\n',
      'null',
      'true',
      '0',
      '-1e999',
      '"this is a bad example"',
      "{'sentence': 'single quotes'}",
      '{sentence: "unquoted key"}',
      '{"sentence": "trailing comma",}',
      '{"sentence": "a"} {"sentence": "b"}',
      '{"sentence": "a"}garbage',
      '{"sentence": NaN}',
      '{"sentence": Infinity}',
      '{"sentence": undefined}',
      '{"sentence": "\\x41"}',
      '{"sentence": "\\u12"}',
      '{"sentence": "\\ud800\\u"}',
      '{"sentence": "tab\there"}',
      '{"sentence": "/* comment */"} // comment',
      '\ufeff{"sentence": "byte order mark"}',
      'sentence=this+is+bad',
      '<sentence>bad</sentence>',
      '--x\r\nContent-Disposition: form-data; name="sentence"\r\n\r\nbad\r\n--x--',
    ),
    fc.string({ unit: textUnit, maxLength: 60 }),
    fc.json(),
  )
  .map((text): Payload => ({ body: utf8(text) }));

/** Valid JSON of any shape. */
const randomJson = anyJson.map((value): Payload => ({ body: utf8(JSON.stringify(value) ?? 'null') }));

/** Every body the fuzzer sends; where the answer is certain, the payload says it. */
const payload: fc.Arbitrary<Payload> = fc.oneof(
  { weight: 6, arbitrary: validSingle },
  { weight: 3, arbitrary: validBatch },
  { weight: 1, arbitrary: fullBatch },
  { weight: 6, arbitrary: invalidFields },
  { weight: 3, arbitrary: extraField },
  { weight: 3, arbitrary: pollution },
  { weight: 3, arbitrary: duplicateKeys },
  { weight: 4, arbitrary: truncated },
  { weight: 2, arbitrary: deepNesting },
  { weight: 1, arbitrary: nearLimit },
  { weight: 1, arbitrary: farOverLimit },
  { weight: 3, arbitrary: invalidUtf8InSentence },
  { weight: 3, arbitrary: randomBytes },
  { weight: 4, arbitrary: notJson },
  { weight: 4, arbitrary: randomJson },
);

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/json;charset=UTF-8'];

/** Header values Node lets a client send: tab, printable ASCII and Latin-1. */
const headerValue = fc.string({ unit: fc.oneof(char(0x20, 0x7e), char(0x80, 0xff), fc.constant('\t')), maxLength: 80 });

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...JSON_TYPES, 'Application/JSON', 'application/json; charset="utf-8"') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      undefined,
      '',
      'text/plain',
      'text/json',
      'text/html; charset=utf-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/vnd.api+json',
      'application/merge-patch+json',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'application/json; charset=utf-7',
      'application/json; charset=',
      'application/json;;;',
      'application/json; boundary=1; charset=utf-8; q=0',
      'application/json, text/plain',
      'application/',
      '/',
      '*/*',
      'json',
    ),
  },
  { weight: 1, arbitrary: headerValue },
);

type Encoding = 'gzip' | 'deflate' | 'br' | 'identity' | 'gzip (not compressed)' | 'x-unknown' | 'gzip, gzip';
const encoding = fc.constantFrom<Encoding>(
  'gzip',
  'deflate',
  'br',
  'identity',
  'gzip (not compressed)',
  'x-unknown',
  'gzip, gzip',
);

function encode(body: Buffer | undefined, how: Encoding): { header: string; body: Buffer | undefined } {
  switch (how) {
    case 'gzip':
      return { header: 'gzip', body: body && gzipSync(body) };
    case 'deflate':
      return { header: 'deflate', body: body && deflateSync(body) };
    case 'br':
      return { header: 'br', body: body && brotliCompressSync(body) };
    case 'gzip, gzip':
      return { header: 'gzip, gzip', body: body && gzipSync(gzipSync(body)) };
    case 'gzip (not compressed)':
      return { header: 'gzip', body };
    case 'identity':
    case 'x-unknown':
      return { header: how, body };
  }
}

/** Extra headers: request ids (valid and not), deadlines (well-formed and not), Accept. */
const extraHeaders = fc.record(
  {
    'X-Request-Id': fc.oneof(
      fc.stringMatching(/^[\w.:@/+=-]{1,128}$/),
      headerValue,
      fc.constantFrom('', ' ', 'a'.repeat(129), '../../etc/passwd', '<script>', '%00'),
    ),
    'X-Request-Timeout-Ms': fc.constantFrom('abc', '', '-1', '0', '1e3', ' 5000 ', '5000,5000', '99999999999', '9000'),
    Accept: fc.oneof(fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml', ''), headerValue),
    'Accept-Charset': fc.constantFrom('utf-16', 'latin1', 'x'),
    Expect: fc.constantFrom('100-continue'),
  },
  { requiredKeys: [] },
);

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];
const RARE_METHODS = [
  'TRACE',
  'PROPFIND',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
  'SEARCH',
  'REPORT',
  'PURGE',
  'LINK',
  'UNLINK',
  'MERGE',
  'NOTIFY',
  'SUBSCRIBE',
  'ACL',
  'QUERY',
  'M-SEARCH',
  'CHECKOUT',
];
const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('POST', 'GET') },
  { weight: 3, arbitrary: fc.constantFrom(...METHODS) },
  { weight: 1, arbitrary: fc.constantFrom(...RARE_METHODS) },
);

/**
 * Path segments: the real ones, traversal, broken percent-encodings, any text percent-encoded. (Raw bytes outside
 * ASCII never reach the app: Node's HTTP parser rejects them; see the protocol-level test.)
 */
const segment = fc.oneof(
  fc.constantFrom(
    'v1',
    'v2',
    'v0',
    'v3',
    'V1',
    'inference',
    'sentiment_analysis',
    'batch',
    'health',
    'live',
    'ready',
    'dependencies',
    'metrics',
    'docs',
    'docs-json',
    '',
    '.',
    '..',
    '%2e%2e',
    '%2F',
    '%00',
    '%',
    '%zz',
    '%E0%A4%A',
    '%ff',
    '%C0%AF',
    '%ED%A0%80',
    '__proto__',
    'constructor',
    'prototype',
    ';jsessionid=1',
    '*',
    '~',
  ),
  fc.string({ unit: 'binary', maxLength: 12 }).map(encodeURIComponent),
  fc.string({ unit: char(0x21, 0x7e), maxLength: 12 }).map((s) => s.replace(/[?#]/g, '')),
);

const path = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...ENDPOINTS) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...ENDPOINTS),
        fc.constantFrom('/', '//', '?', '?sentence=bad', '?a[b]=1&a[b]=2', '/batch', '/x', '.json', '%20', ';a=b'),
      )
      .map(([p, suffix]) => p + suffix),
  },
  { weight: 1, arbitrary: fc.constantFrom(...ENDPOINTS).map((p) => p.toUpperCase()) },
  { weight: 3, arbitrary: fc.array(segment, { maxLength: 6 }).map((segments) => `/${segments.join('/')}`) },
  { weight: 1, arbitrary: fc.webPath({ size: 'small' }).map((p) => (p.startsWith('/') ? p : `/${p}`)) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...ENDPOINTS), fc.webQueryParameters()).map(([p, query]) => `${p}?${query}`),
  },
);

/** A well-formed POST to an inference route: its answer is known for most payloads. */
const targeted = (routes: readonly string[]) =>
  fc.tuple(fc.constantFrom(...routes), payload, fc.constantFrom(...JSON_TYPES)).map(([route, p, type]) => {
    const expected = route.endsWith('/batch') ? p.batch : p.single;
    return printable({
      method: 'POST',
      path: route,
      headers: { 'Content-Type': type },
      ...(p.body === undefined ? {} : { body: p.body }),
      ...(p.note === undefined ? {} : { note: p.note }),
      ...(expected === undefined ? {} : { expect: expected }),
    });
  });

/** Anything at all: method, path, content type, encoding, headers and body drawn independently. */
const chaos = fc
  .tuple(method, path, contentType, fc.option(encoding, { freq: 4 }), extraHeaders, fc.option(payload, { freq: 6 }))
  .map(([m, p, type, how, extra, body]) => {
    const encoded = how === null ? { header: undefined, body: body?.body } : encode(body?.body, how);
    const headers: Record<string, string> = { ...extra };
    if (type !== undefined) {
      headers['Content-Type'] = type;
    }
    if (encoded.header !== undefined) {
      headers['Content-Encoding'] = encoded.header;
    }
    return printable({
      method: m,
      path: p,
      headers,
      ...(encoded.body === undefined ? {} : { body: encoded.body }),
      ...(body?.note === undefined ? {} : { note: body.note }),
    });
  });

/** A probe of one of the GET endpoints, with or without junk headers. */
const probe = fc
  .tuple(
    fc.constantFrom(V1, V2, '/health/live', '/health/ready', '/health/dependencies', '/metrics', '/docs-json'),
    fc.constantFrom('GET', 'HEAD'),
    fc.option(extraHeaders),
  )
  .map(([p, m, extra]) => {
    const headers: Record<string, string> = { ...(extra ?? {}) };
    delete headers['X-Request-Timeout-Ms'];
    return printable({ method: m, path: p, headers });
  });

const anyCase = fc.oneof({ weight: 5, arbitrary: targeted(INFERENCE_ROUTES) }, { weight: 6, arbitrary: chaos }, probe);

// ---------------------------------------------------------------------------------------------------------------
// Memory

type Gc = () => void;
function exposeGc(): Gc {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as Gc;
}

async function settledMemory(gc: Gc): Promise<{ heap: number; rss: number }> {
  for (let i = 0; i < 4; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    gc();
  }
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed + usage.external, rss: usage.rss };
}

/** Bodies a leaky service would keep: parsed, validated, rejected (400) on every inference route. */
function ballast(round: number): Case[] {
  return Array.from({ length: BALLAST_REQUESTS }, (_, i) => {
    const route = INFERENCE_ROUTES[i % INFERENCE_ROUTES.length]!;
    const filler = String.fromCharCode(0x61 + ((round + i) % 26)).repeat(BALLAST_BYTES);
    const body = route.endsWith('/batch') ? { sentences: ['ok', filler] } : { sentence: filler };
    return {
      method: 'POST',
      path: route,
      headers: { 'Content-Type': 'application/json' },
      body: utf8(JSON.stringify(body)),
      expect: bad,
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Raw TCP, for what an HTTP client library would refuse to send

interface RawReply {
  readonly status?: number;
  readonly contentType?: string;
  readonly head: string;
  readonly body: string;
}

/** Writes `bytes`, half-closes, and reads until the server closes (or 3 s pass). */
function rawExchange(server: Server, bytes: Buffer): Promise<RawReply> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    socket.setTimeout(3_000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      let body = split < 0 ? '' : text.slice(split + 4);
      if (/^transfer-encoding:\s*chunked/im.test(head)) {
        let rest = body;
        body = '';
        for (let size = parseInt(rest, 16); size > 0; size = parseInt(rest, 16)) {
          const start = rest.indexOf('\r\n') + 2;
          body += rest.slice(start, start + size);
          rest = rest.slice(start + size + 2);
        }
      }
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
      const contentType = /^content-type:\s*(.*)$/im.exec(head)?.[1];
      resolve({
        ...(status === undefined ? {} : { status: Number(status) }),
        ...(contentType === undefined ? {} : { contentType }),
        head,
        body: Buffer.from(body, 'latin1').toString('utf8'),
      });
    });
  });
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------

const MiB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

describe('fuzzing every endpoint with random and hostile requests', () => {
  let tfServing: StandInProcess;
  let app: NestFastifyApplication;
  let server: Server;
  let requests = 0;
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

  const sendChecked = async (c: Case, options?: CheckOptions) => {
    requests++;
    check(c, await send(server, c), options);
  };

  beforeAll(async () => {
    tfServing = await StandInProcess.start();
    app = await startApp({
      BODY_LIMIT: String(BODY_LIMIT),
      MAX_SENTENCE_LENGTH: String(MAX_SENTENCE_LENGTH),
      MAX_BATCH_SIZE: String(MAX_BATCH_SIZE),
      TF_SERVING_URL: tfServing.url,
      TF_SERVING_TIMEOUT_MS: '10000',
      TF_SERVING_RETRIES: '1',
      TF_SERVING_STATUS_INTERVAL_MS: '100000',
      // Faults are injected on purpose below; v2 must come back as soon as they end.
      TF_SERVING_CIRCUIT_MIN_CALLS: '0',
    });
    server = app.getHttpServer();
    await app.get(TfServingStrategy).checkHealth();
  }, 60_000);

  afterAll(async () => {
    agent.destroy();
    await app?.close();
    await tfServing?.close();
    console.log(`fuzz: ${requests} requests`);
  });

  it('should answer every request without a 5xx, with JSON errors, without growing memory', async () => {
    const gc = exposeGc();
    const memory: { heap: number; rss: number }[] = [];
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // fc.check, not fc.assert: a failing round is reported at the end, and the rounds after it still run, so
      // the memory measurement below does not depend on the service being bug-free.
      const details = await fc.check(
        fc.asyncProperty(anyCase, (c) => sendChecked(c)),
        { seed: SEED + round, numRuns: RUNS_PER_ROUND },
      );
      if (details.failed) {
        const cause = details.errorInstance instanceof Error ? details.errorInstance.message : details.errorInstance;
        failures.push(`round ${round}: ${fc.defaultReportMessage(details)}\nCause: ${String(cause)}`);
      }
      for (const c of ballast(round)) {
        await sendChecked(c);
      }
      memory.push(await settledMemory(gc));
    }
    const growth = memory[ROUNDS - 1]!.heap - memory[1]!.heap;
    const rssGrowth = memory[ROUNDS - 1]!.rss - memory[1]!.rss;
    const report =
      `heap+external after each round: ${memory.map((m) => MiB(m.heap)).join(', ')}; ` +
      `rss: ${memory.map((m) => MiB(m.rss)).join(', ')}`;
    console.log(`fuzz memory: ${report}`);
    if (growth >= LEAK_BOUND) {
      failures.push(`heap+external grew ${MiB(growth)} over rounds 2-${ROUNDS} (bound ${MiB(LEAK_BOUND)}): ${report}`);
    }
    if (rssGrowth >= RSS_BOUND) {
      failures.push(`RSS grew ${MiB(rssGrowth)} over rounds 2-${ROUNDS} (bound ${MiB(RSS_BOUND)}): ${report}`);
    }
    if (failures.length > 0) {
      throw new Error(failures.join('\n\n'));
    }
  }, 120_000);

  it('should keep every answer right when hostile and valid requests arrive together (dynamic batching)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(targeted(INFERENCE_ROUTES), chaos), { minLength: 2, maxLength: 12 }),
        async (cases) => {
          requests += cases.length;
          const answers = await Promise.all(cases.map((c) => send(server, c)));
          answers.forEach((a, i) => check(cases[i]!, a));
        },
      ),
      { seed: SEED, numRuns: 40 },
    );
  }, 60_000);

  it('should answer v2 with 502/503/504 JSON, never 500, whatever TF Serving does, and keep v1 serving', async () => {
    type Fault = 'none' | 'fail500' | 'malformedJson' | 'wrongShape' | 'dropConnections' | 'stopped';
    let stopped = false;
    const apply = async (fault: Fault) => {
      if (fault === 'stopped' && !stopped) {
        await tfServing.stop();
      } else if (fault !== 'stopped' && stopped) {
        await tfServing.start();
      }
      stopped = fault === 'stopped';
      await tfServing.setFaults(
        fault === 'none' || fault === 'stopped'
          ? {}
          : fault === 'fail500' || fault === 'dropConnections'
            ? { [fault]: Infinity }
            : { [fault]: true },
      );
    };
    const v2Case = fc.oneof(
      { weight: 4, arbitrary: targeted([V2, `${V2}/batch`]) },
      fc.constantFrom(V2, '/health/dependencies').map((p) => printable({ method: 'GET', path: p, headers: {} })),
    );
    const v1Valid = targeted([V1]).filter((c) => c.expect?.kind === 'prediction');
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom<Fault>('none', 'fail500', 'malformedJson', 'wrongShape', 'dropConnections', 'stopped'),
          fc.array(v2Case, { minLength: 1, maxLength: 4 }),
          v1Valid,
          async (fault, cases, v1) => {
            await apply(fault);
            for (const c of cases) {
              await sendChecked(c, { upstreamDown: fault !== 'none' });
            }
            await sendChecked(v1);
          },
        ),
        { seed: SEED, numRuns: 60 },
      );
    } finally {
      await apply('none');
    }
  }, 60_000);

  it('should survive bytes that are not HTTP at all, never answering 5xx', async () => {
    const garbage = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
      fc
        .tuple(
          fc.constantFrom('GET', 'POST', 'FOO', 'G\u00c9T', '', 'CONNECT', 'PRI'),
          fc.constantFrom(V1, `${V1}/batch`, '*', '', 'http://x/', '/\u0000', '/a b', '/\u00ff'),
          fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9', 'HTTPS/1.1', ''),
          fc.constantFrom(
            'Host: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n',
            'Host: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n',
            'Host: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n',
            'Host: x\r\nContent-Length: -1\r\n',
            'Host: x\r\nContent-Length: 100\r\nContent-Type: application/json\r\n',
            'Host: x\r\nContent-Length: 18\r\nContent-Type: application/json\r\n',
            'Host: x\r\nX: \u0000\r\n',
            'Host: x\r\n bad folding\r\n',
            '',
            `Host: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n`,
          ),
          fc.constantFrom('', '{"sentence":"bad"}', '5\r\n{"sen\r\nzz\r\nab\r\n0\r\n\r\n', '{"sentence":'),
        )
        .map(([m, target, version, headers, body]) =>
          Buffer.from(`${m} ${target} ${version}\r\n${headers}\r\n${body}`, 'latin1'),
        ),
    );
    await fc.assert(
      fc.asyncProperty(garbage, async (bytes) => {
        requests++;
        const reply = await rawExchange(server, bytes);
        if (reply.status !== undefined && reply.status >= 500) {
          throw new Error(`${reply.status} for ${JSON.stringify(bytes.toString('latin1').slice(0, 300))}`);
        }
      }),
      { seed: SEED, numRuns: 100 },
    );
  }, 60_000);

  it("should answer JSON errors even for requests Node's HTTP parser rejects", async () => {
    // One defect each, in a request an ordinary (if careless) client could send. (An HTTP/1.1 request without
    // Host is not among them: Node answers it with a bare 400 itself, before any hook the app could add.)
    const defective = fc
      .tuple(
        fc.constantFrom(...ENDPOINTS),
        fc.constantFrom(
          'raw non-ASCII byte in the path',
          'control character in a header value',
          'unknown method',
          'header section over 16 KiB',
          'two different Content-Length headers',
        ),
        fc.integer({ min: 0x80, max: 0xff }),
      )
      .map(([target, defect, byte]) => {
        const method = defect === 'unknown method' ? 'FETCH' : 'POST';
        const path = defect === 'raw non-ASCII byte in the path' ? `${target}${String.fromCharCode(byte)}` : target;
        const headers = [
          'Host: localhost',
          'Content-Type: application/json',
          ...(defect === 'two different Content-Length headers'
            ? ['Content-Length: 18', 'Content-Length: 19']
            : ['Content-Length: 18']),
          ...(defect === 'control character in a header value' ? ['X-Request-Id: a\u0001b'] : []),
          ...(defect === 'header section over 16 KiB' ? [`X-Padding: ${'a'.repeat(17_000)}`] : []),
          'Connection: close',
        ];
        const text = `${method} ${path} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n{"sentence":"bad"}`;
        const shown = text
          .slice(0, 200)
          .replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
        return Object.assign(Buffer.from(text, 'latin1'), { [fc.toStringMethod]: () => `${defect}: ${shown}` });
      });
    await fc.assert(
      fc.asyncProperty(defective, async (bytes) => {
        requests++;
        const reply = await rawExchange(server, bytes);
        const problem =
          reply.status === undefined
            ? 'no HTTP answer'
            : reply.status >= 500
              ? `server error ${reply.status}`
              : !/^application\/json\b/i.test(reply.contentType ?? '')
                ? `${reply.status} with Content-Type ${reply.contentType ?? '(none)'}, not application/json`
                : !isJson(reply.body)
                  ? `${reply.status} with a body that is not JSON`
                  : undefined;
        if (problem) {
          throw new Error(`${problem}; answer: ${JSON.stringify(reply.head.slice(0, 300))}`);
        }
      }),
      { seed: SEED, numRuns: 30 },
    );
  }, 60_000);

  it('should still answer a valid request correctly, stay ready, and leave Object.prototype untouched', async () => {
    await app.get(TfServingStrategy).checkHealth();
    for (const route of [V1, V2]) {
      const c: Case = {
        method: 'POST',
        path: route,
        headers: { 'Content-Type': 'application/json' },
        body: utf8('{"sentence":"this is a bad example"}'),
      };
      const answer = await send(server, c);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.text)).toEqual({ sentiment: 'NEGATIVE', confidence: expect.any(Number) });
    }
    for (const probePath of ['/health/live', '/health/ready', '/health/dependencies']) {
      expect((await send(server, { method: 'GET', path: probePath, headers: {} })).status).toBe(200);
    }
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.toString.call([])).toBe('[object Array]');
  });
});
