import { Logger, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { BertTokenizer } from './bert.tokenizer.js';
import { MODEL_BUNDLE, TOKENIZER } from './model.constants.js';
import { type ModelBundle, loadModelBundle } from './model-bundle.js';

/**
 * Opens the configured model folder at start-up (config.json and tokenizer.json are small and read synchronously,
 * so a wrong MODEL_DIR stops the process with a clear message) and shares the bundle and its tokenizer, with the
 * tokenizer's fast path checked against the reference before anything can use it.
 */
@Module({
  providers: [
    {
      provide: MODEL_BUNDLE,
      useFactory: (config: AppConfig): ModelBundle => loadModelBundle(config.model.dir, config.model.version),
      inject: [APP_CONFIG],
    },
    {
      provide: TOKENIZER,
      useFactory: async (bundle: ModelBundle, config: AppConfig): Promise<BertTokenizer> => {
        const tokenizer = BertTokenizer.fromFile(bundle.files.tokenizer, bundle.config.maxLength);
        if (config.model.tokenizerFastPath) {
          const check = await tokenizer.enableFastPath();
          const logger = new Logger('Tokenizer');
          if (check.enabled) {
            logger.log({ msg: 'tokenizer fast path on', probes: check.probes });
          } else {
            logger.warn({ msg: 'tokenizer fast path off: every sentence goes to the reference', reason: check.reason });
          }
        }
        return tokenizer;
      },
      inject: [MODEL_BUNDLE, APP_CONFIG],
    },
  ],
  exports: [MODEL_BUNDLE, TOKENIZER],
})
export class ModelModule {}
