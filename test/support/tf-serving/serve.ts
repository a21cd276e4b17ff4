/**
 * The stand-in's `tensorflow_model_server` command: TF Serving's REST API from the repository's SavedModels, with
 * TF Serving's own flags (model-server.ts). The stand-in image runs it behind TF Serving's Docker entrypoint.
 *
 *   npm run tf-serving:stand-in                     # models/sentiment_analysis on port 8501 (or $PORT)
 *   npm run tf-serving:stand-in -- --model_config_file=FILE --allow_version_labels_for_unavailable_models=true
 *
 * For development and tests without Docker or the tensorflow/serving image; not for production.
 */
import { fileURLToPath } from 'node:url';
import { parseModelServerFlags, startModelServer } from './model-server.js';

let running: Awaited<ReturnType<typeof startModelServer>>;
try {
  const flags = parseModelServerFlags(process.argv.slice(2), {
    // Conveniences of the stand-in, where the real binary has none: the repository's model, on $PORT or 8501.
    restApiPort: Number(process.env.PORT ?? 8501),
    modelName: 'sentiment_analysis',
    modelBasePath: fileURLToPath(new URL('../../../models/sentiment_analysis', import.meta.url)),
  });
  running = await startModelServer(flags);
  for (const [name, versions] of running.versions) {
    console.log(`Successfully loaded servable version {name: ${name} version: ${versions.join(', ')}}`);
  }
  console.log(`Exporting HTTP/REST API at:0.0.0.0:${flags.restApiPort} ... (TF Serving REST stand-in; no gRPC)`);
} catch (error) {
  console.error(`Failed to start server. Error: ${(error as Error).message}`);
  process.exit(1);
}
const stop = () => void running.server.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
