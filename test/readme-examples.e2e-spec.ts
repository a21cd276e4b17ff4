/**
 * The README's examples are run, not trusted: every curl command of the README that shows an answer under it is
 * sent to the real application, on v1 and, with the path's /v1/ turned into /v2/, on v2 through the TF Serving
 * stand-in (the same model as a SavedModel); the answer must have the shown shape and labels, and the confidences
 * to the digits shown. Before this test the README showed 0.92 and 0.97 where the service answered 0.9705 and 0.9905.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TfServingStrategy } from '../src/inference/index.js';
import { startApp } from './support/app.js';
import { differences, readmeCurls, readmeScripts, sendCurl } from './support/readme.js';
import { StandInProcess } from './support/tf-serving/stand-in.handle.js';

const execFileAsync = promisify(execFile);
const shownExamples = readmeCurls().filter((example) => example.shown !== undefined);

describe("the README's examples, against the service", () => {
  let tfServing: StandInProcess;
  let app: NestFastifyApplication;
  let baseUrl: string;

  beforeAll(async () => {
    tfServing = await StandInProcess.start();
    app = await startApp({ TF_SERVING_URL: tfServing.url, TF_SERVING_STATUS_INTERVAL_MS: '100000' });
    await app.get(TfServingStrategy).checkHealth();
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  }, 120_000);
  afterAll(async () => {
    await app.close();
    await tfServing.close();
  });

  it('should find the examples that show an answer (the single sentence and the batch)', () => {
    expect(shownExamples.map((example) => example.path)).toEqual(
      expect.arrayContaining(['/v1/inference/sentiment_analysis', '/v1/inference/sentiment_analysis/batch']),
    );
  });

  it.each((['v1', 'v2'] as const).flatMap((version) => readmeScripts().map((script) => [version, script] as const)))(
    '%s: the JavaScript example prints what the README shows',
    async (version, script) => {
      const dir = mkdtempSync(join(tmpdir(), 'readme-js-'));
      try {
        const file = join(dir, 'example.mjs');
        writeFileSync(file, script.code.replaceAll('http://localhost:5001/v1/', `${baseUrl}/${version}/`));
        const { stdout } = await execFileAsync(process.execPath, [file], { timeout: 20_000 });
        const [status, ...json] = stdout.trim().split(' ');
        expect(Number(status)).toBe(script.status);
        expect(differences(JSON.parse(script.shown), JSON.parse(json.join(' ')))).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it.each(
    shownExamples.flatMap((example) =>
      (['v1', 'v2'] as const).map((version) => [version, example.path, example] as const),
    ),
  )('%s: the example of %s answers what the README shows', async (version, _path, example) => {
    const sent = { ...example, path: example.path.replace('/v1/', `/${version}/`) };
    const { status, body } = await sendCurl(baseUrl, sent);
    expect(status).toBe(200);
    expect(differences(JSON.parse(example.shown!), body)).toEqual([]);
  });
});
