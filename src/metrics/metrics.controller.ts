import { Controller, Get, Header, Inject, NotFoundException, Res, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { Auth, NotRateLimited } from '../security/auth-scope.decorator.js';
import { MetricsService } from './metrics.service.js';

@ApiTags('metrics')
@Auth('metrics')
@NotRateLimited()
@Controller({ path: 'metrics', version: VERSION_NEUTRAL })
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format); off with METRICS_ENABLED=false' })
  @ApiOkResponse({ description: 'Prometheus text format', content: { 'text/plain': {} } })
  async scrape(@Res({ passthrough: true }) res: FastifyReply): Promise<string> {
    if (!this.config.metrics.enabled) {
      throw new NotFoundException(`no route GET /metrics (METRICS_ENABLED=false)`);
    }
    res.header('Content-Type', this.metrics.contentType);
    return this.metrics.render();
  }
}
