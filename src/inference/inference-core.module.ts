import { Global, Module } from '@nestjs/common';
import { InferenceRegistry } from './inference.registry.js';

@Global()
@Module({ providers: [InferenceRegistry], exports: [InferenceRegistry] })
export class InferenceCoreModule {}
