/**
 * Express or Fastify for this service? The smallest Nest app shaped like ours: one POST route with a validated DTO
 * (global ValidationPipe, whitelist), a fixed answer, no model. `ADAPTER=express|fastify`. Compiled by bench/run.ts
 * with decorator metadata (ValidationPipe needs it).
 */
import 'reflect-metadata';
import { Body, Controller, HttpCode, Module, Post, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { IsString, Matches } from 'class-validator';

class ClassifyDto {
  @IsString()
  @Matches(/\S/)
  sentence!: string;
}

@Controller()
class ClassifyController {
  @Post('classify')
  @HttpCode(200)
  classify(@Body() body: ClassifyDto): { sentiment: string; confidence: number } {
    return { sentiment: body.sentence.length % 2 ? 'NEGATIVE' : 'POSITIVE', confidence: 0.98 };
  }
}

@Module({ controllers: [ClassifyController] })
class MinimalModule {}

const app =
  process.env.ADAPTER === 'fastify'
    ? await NestFactory.create(MinimalModule, new FastifyAdapter(), { logger: false })
    : await NestFactory.create(MinimalModule, { logger: false });
app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
await app.listen(Number(process.env.PORT ?? 5103), '127.0.0.1');
console.log('ready');
