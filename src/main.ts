import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { EX_CONFIG, checkStartup, logStartupProblems, modelLoadProblem } from './bootstrap/startup-checks.js';
import { ConfigValidationError } from './config/index.js';
import { configureApp, createHttpAdapter } from './configure-app.js';
import { applyHeapGrowingPercent } from './system/v8-heap.js';
import { OnnxStrategy } from './inference/index.js';

async function bootstrap(): Promise<void> {
  const config = checkStartup(process.env);
  applyHeapGrowingPercent(config.memory.heapGrowingPercent);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), createHttpAdapter(config), {
    bufferLogs: true,
    // Request bodies are parsed by the JSON-only parser configureApp installs.
    bodyParser: false,
  });
  await configureApp(app);
  await app.listen(config.server.port, config.server.host);
  app.get(Logger).log({ msg: 'listening', url: await app.getUrl() }, 'Bootstrap');

  // On the first SIGTERM/SIGINT: Terminus turns readiness to 503 and waits SHUTDOWN_DELAY_MS, Nest stops the
  // server and releases the model, then the process exits 0 (process.exit also flushes pino).
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });

  // The model loads after the server starts (liveness answers meanwhile); a model that cannot load stops the service
  // (it never turned ready, so no traffic is routed to it: nothing to drain).
  const failure = modelLoadProblem(config, await app.get(OnnxStrategy).settled());
  if (failure) {
    throw failure;
  }
}

try {
  await bootstrap();
} catch (error) {
  if (!(error instanceof ConfigValidationError)) {
    throw error;
  }
  logStartupProblems(error);
  process.exit(EX_CONFIG);
}
