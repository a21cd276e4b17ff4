import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { ConfigValidationError, loadConfig } from './config/index.js';
import { configureApp, createHttpAdapter } from './configure-app.js';
import { applyHeapGrowingPercent } from './common/system/v8-heap.js';
import { ModelMemoryError, planOnnxExecution } from './inference/onnx/onnx-threading.js';
import { ModelBundleError, loadModelBundle, onnxFile } from './model/model-bundle.js';

/** The configuration names a model file that is not there. */
class ModelFileError extends Error {}

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  try {
    const file = onnxFile(loadModelBundle(config.model.dir, config.model.version), config.onnx.precision);
    if (config.onnx.precision === 'int8' && !existsSync(file)) {
      throw new ModelFileError(
        `ONNX_PRECISION=int8 but ${file} does not exist: write it with \`npm run model:quantize\` (or import with --quantize), or unset ONNX_PRECISION`,
      );
    }
    // Refuse at once, with the memory it needs, a model that cannot fit the container (instead of OOM kills).
    planOnnxExecution(config, file);
  } catch (error) {
    if (error instanceof ModelMemoryError || error instanceof ModelFileError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    if (error instanceof ModelBundleError) {
      // A model folder or version that is not there, or an incomplete one, is a configuration error too.
      const { dir, version } = config.model;
      const variables = `MODEL_DIR=${JSON.stringify(dir)}${version === undefined ? '' : ` MODEL_VERSION=${JSON.stringify(version)}`}`;
      console.error(`invalid configuration:\n  ${variables}: ${error.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
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
}

await bootstrap();
