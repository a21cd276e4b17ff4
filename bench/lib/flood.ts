/**
 * The overload probe: 200 concurrent batches of the largest accepted size (64 sentences × 2,000
 * characters) on raw sockets, each connected first and then sent its whole request in one write, so that what is
 * timed is the server's, not an HTTP client's (fetch in the same process takes 400–540 ms for the median 429 on
 * 2 CPUs even from a server that refuses at the headers). Used by test/hostile-pipelining.e2e-spec.ts and
 * `npm run bench:overload`.
 */
import { connect, type Socket } from 'node:net';

export interface FloodAnswer {
  readonly status: number;
  /** From the write to the end of the answer's headers (ms). */
  readonly ms: number;
  readonly retryAfter: string | undefined;
}

const WORDS = ['gripping', 'dull', 'a', 'film', 'never', 'quite', 'works', 'brilliant', 'cast', 'über', 'naïve'];

function sentence(seed: number): string {
  let text = '';
  for (let i = seed; text.length < 2000; i++) {
    text += `${WORDS[(i * 7) % WORDS.length]} `;
  }
  return text.slice(0, 2000);
}

/** `count` requests to POST `path` (HTTP/1.1, Connection: close), each a batch of 64 different 2,000-character sentences. */
export function floodMessages(path: string, count = 200): Buffer[] {
  return Array.from({ length: count }, (_, b) => {
    const body = JSON.stringify({ sentences: Array.from({ length: 64 }, (_, s) => sentence(b * 64 + s)) });
    return Buffer.from(
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

/** Opens one connection per message, then writes them all at once; resolves with each answer's status and time. */
export async function flood(port: number, messages: readonly Buffer[]): Promise<FloodAnswer[]> {
  const sockets = await Promise.all(
    messages.map(
      () =>
        new Promise<Socket>((open) => {
          const socket = connect(port, '127.0.0.1', () => open(socket));
        }),
    ),
  );
  try {
    return await Promise.all(
      sockets.map(
        (socket, i) =>
          new Promise<FloodAnswer>((done, fail) => {
            const started = performance.now();
            let head = '';
            socket.setEncoding('latin1');
            socket.on('data', (chunk: string) => {
              if (head.includes('\r\n\r\n')) {
                return;
              }
              head += chunk;
              if (head.includes('\r\n\r\n')) {
                const ms = performance.now() - started;
                done({ status: Number(head.slice(9, 12)), ms, retryAfter: /\r\nretry-after: (\S+)/i.exec(head)?.[1] });
              }
            });
            socket.on('error', fail);
            socket.on('close', () => fail(new Error('connection closed before an answer')));
            socket.write(messages[i]!);
          }),
      ),
    );
  } finally {
    for (const socket of sockets) {
      socket.destroy();
    }
  }
}

/** The median of the 429s' times (ms), Infinity when none was refused. */
export function refusalMedian(answers: readonly FloodAnswer[]): number {
  const refused = answers
    .filter((a) => a.status === 429)
    .map((a) => a.ms)
    .sort((a, b) => a - b);
  return refused[Math.floor(refused.length / 2)] ?? Infinity;
}
