/**
 * `npm run tf-serving:stand-in [-- --port 8501 --model-base models/sentiment_analysis --policy all]` (or PORT=...)
 *
 * Local development without Docker: TF Serving's REST API on the given port, serving the repository's
 * SavedModel through the protocol stand-in (tfjs). Not for production: use the tensorflow/serving image.
 */
import { parseArgs } from 'node:util';
import { startStandIn } from './stand-in.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '8501' },
    'model-base': { type: 'string' },
    'model-name': { type: 'string', default: 'sentiment_analysis' },
    policy: { type: 'string', default: 'latest' },
  },
});
const server = await startStandIn({
  port: Number(values.port),
  modelName: values['model-name'],
  policy: values.policy === 'all' ? 'all' : 'latest',
  ...(values['model-base'] ? { modelBase: values['model-base'] } : {}),
});
console.log(`TF Serving protocol stand-in: ${server.url}/v1/models/${values['model-name']}`);
const stop = () => void server.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
