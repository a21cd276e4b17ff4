/**
 * `npm run bench:overload`: how fast an overloaded service refuses. Each round sends 200 concurrent batches of the
 * largest accepted size (64 × 2,000 characters, bench/lib/flood.ts) to the service with default settings, and the
 * same flood to a bare node:http server that reads each body, parses it and answers 429 (the floor this client and
 * machine allow); the two alternate round by round. Reports the medians over rounds of the 429s' median time, the
 * batches answered, and the slowest `/health/live` seen during the service's floods; writes its block into
 * docs/benchmarks.md (`npm run bench` keeps it). BENCH_ROUNDS (5).
 */
import { resolve } from 'node:path';
import { REPO_ROOT } from '../tools/common/sst2.js';
import { flood, floodMessages, refusalMedian } from './lib/flood.js';
import { machineInfo } from './lib/machine.js';
import { start } from './lib/processes.js';
import { OVERLOAD_SECTION, writeSection } from './lib/report-section.js';
import { NODE, ROUTE_V1, buildDist, median, startService } from './lib/service.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BATCH = `${ROUTE_V1}/batch`;
const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));
const log = (message: string) => console.error(`[bench:overload] ${message}`);

const BARE_REFUSER = `
const { createServer } = require('node:http');
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    JSON.parse(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end('{"statusCode":429,"error":"Too Many Requests"}');
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));
`;

const portOf = (url: string) => Number(new URL(url).port);

async function main(): Promise<void> {
  buildDist();
  const messages = floodMessages(BATCH);
  const service = await startService('service');
  const bare = await start('bare node:http refuser', NODE, ['-e', BARE_REFUSER], {}, null);
  const rows: { service: number; answered: number; slowestLive: number; bare: number }[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      let probing = true;
      let slowestLive = 0;
      const probe = (async () => {
        while (probing) {
          const started = performance.now();
          await (await fetch(`${service.url}/health/live`)).arrayBuffer();
          slowestLive = Math.max(slowestLive, performance.now() - started);
          await sleep(50);
        }
      })();
      const answers = await flood(portOf(service.url), messages);
      probing = false;
      await probe;
      await sleep(2000); // the admitted batches finish
      const bareAnswers = await flood(portOf(bare.url), messages);
      const row = {
        service: refusalMedian(answers),
        answered: answers.filter((a) => a.status === 200).length,
        slowestLive,
        bare: refusalMedian(bareAnswers),
      };
      rows.push(row);
      log(`round ${round + 1}: ${JSON.stringify(row)}`);
      await sleep(1000);
    }
  } finally {
    await service.stop();
    await bare.stop();
  }
  const m = (pick: (r: (typeof rows)[number]) => number) => median(rows.map(pick));
  const { cpus, cpu, node } = machineInfo();
  const block = [
    '### Overload: 200 concurrent maximum-size batches',
    '',
    `\`npm run bench:overload\` on ${new Date().toISOString().slice(0, 10)} (${cpus} CPUs, ${cpu}, Node ${node}), ` +
      `${ROUNDS} alternating rounds, medians over rounds. Each round: 200 connections each send one batch of 64 × 2,000 ` +
      'characters at once (raw sockets, bench/lib/flood.ts); the time is from the write to the answer.',
    '',
    '| server | 429 median | batches answered | slowest `/health/live` during the flood |',
    '|---|---|---|---|',
    `| this service, defaults | ${m((r) => r.service).toFixed(0)} ms | ${m((r) => r.answered)} | ${m((r) => r.slowestLive).toFixed(0)} ms |`,
    `| bare node:http, reads and parses the body, answers 429 | ${m((r) => r.bare).toFixed(0)} ms | 0 | – |`,
    '',
    `Per round (service / bare, ms): ${rows.map((r) => `${r.service.toFixed(0)} / ${r.bare.toFixed(0)}`).join(', ')}.`,
  ].join('\n');
  writeSection(resolve(REPO_ROOT, 'docs/benchmarks.md'), OVERLOAD_SECTION, block);
  console.log(block);
}

await main();
