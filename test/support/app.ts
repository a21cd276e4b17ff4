import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppModule } from '../../src/app.module.js';
import { loadConfig } from '../../src/config/index.js';
import { configureApp, createHttpAdapter } from '../../src/configure-app.js';
import { OnnxStrategy } from '../../src/inference/index.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_MODEL_DIR = resolve(REPO_ROOT, 'models/sentiment_analysis');

/**
 * The real application (same module graph and `configureApp` as main.ts) on an ephemeral port, configured from
 * `env` exactly as the process environment would configure it. By default it waits until v1 is ready.
 */
export async function startApp(
  env: Record<string, string> = {},
  options: { waitForModel?: boolean; override?: (builder: TestingModuleBuilder) => TestingModuleBuilder } = {},
): Promise<NestFastifyApplication> {
  const config = loadConfig({ LOG_LEVEL: 'silent', MODEL_DIR: DEFAULT_MODEL_DIR, ...env });
  const builder = Test.createTestingModule({ imports: [AppModule.forRoot(config)] });
  const moduleRef = await (options.override ? options.override(builder) : builder).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createHttpAdapter(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  await configureApp(app);
  await app.listen(0, '127.0.0.1');
  if (options.waitForModel ?? true) {
    await app.get(OnnxStrategy).settled();
  }
  return app;
}
