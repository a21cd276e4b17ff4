import { Global, Module } from '@nestjs/common';
import { HttpDrain } from './http-drain.service.js';

@Global()
@Module({ providers: [HttpDrain], exports: [HttpDrain] })
export class HttpDrainModule {}
