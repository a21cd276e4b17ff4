import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { BertTokenizer } from './bert.tokenizer.js';
import { MODEL_BUNDLE, TOKENIZER } from './model.constants.js';
import { type ModelBundle, loadModelBundle } from './model-bundle.js';

/**
 * Opens the configured model folder at start-up (config.json and tokenizer.json are small and read synchronously,
 * so a wrong MODEL_DIR stops the process with a clear message) and shares the bundle and its tokenizer.
 */
@Global()
@Module({
  providers: [
    {
      provide: MODEL_BUNDLE,
      useFactory: (config: AppConfig): ModelBundle => loadModelBundle(config.model.dir, config.model.version),
      inject: [APP_CONFIG],
    },
    {
      provide: TOKENIZER,
      useFactory: (bundle: ModelBundle): BertTokenizer =>
        BertTokenizer.fromFile(bundle.files.tokenizer, bundle.config.maxLength),
      inject: [MODEL_BUNDLE],
    },
  ],
  exports: [MODEL_BUNDLE, TOKENIZER],
})
export class ModelModule {}
