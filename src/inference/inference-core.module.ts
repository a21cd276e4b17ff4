import { Module } from '@nestjs/common';
import { InferenceRegistry } from './inference.registry.js';

@Module({ providers: [InferenceRegistry], exports: [InferenceRegistry] })
export class InferenceCoreModule {}
