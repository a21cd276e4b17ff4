import { Controller, Get, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, type HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { InferenceRegistry } from '../inference/index.js';
import { Auth, NotRateLimited } from '../security/index.js';
import { InferenceHealthIndicator } from './inference.health.js';

/**
 * Kubernetes probes. Liveness checks nothing outside the process (a slow or missing model must make the pod
 * unready, not restart it in a loop) and stays 200 while the process drains: the kubelet keeps probing a terminating
 * pod, and a failed liveness probe would kill it before its in-flight requests are answered. Readiness requires every
 * in-process model to be loaded and warmed up, and turns 503 as soon as shutdown starts (Terminus' `shutting_down`).
 */
/** Terminus' result shape, as /health/live answers it. */
const LIVE_SCHEMA = {
  type: 'object',
  required: ['status', 'info', 'error', 'details'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    info: { type: 'object', example: { process: { status: 'up', uptimeSeconds: 42 } } },
    error: { type: 'object', example: {} },
    details: { type: 'object', example: { process: { status: 'up', uptimeSeconds: 42 } } },
  },
};

@ApiTags('health')
@Auth('public')
@NotRateLimited()
@Controller({ path: 'health', version: VERSION_NEUTRAL })
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly registry: InferenceRegistry,
    private readonly inference: InferenceHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOperation({ summary: 'Liveness: the process is up and its event loop answers (no dependency checks)' })
  @ApiOkResponse({ description: 'The process is up (also while it drains)', schema: LIVE_SCHEMA })
  live(): HealthCheckResult {
    // Not through HealthCheckService, which answers 503 to every check once shutdown starts.
    const up = this.indicators.check('process').up({ uptimeSeconds: Math.round(process.uptime()) });
    return { status: 'ok', info: up, error: {}, details: up };
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: every in-process model is loaded and warmed up by a real inference' })
  @ApiOkResponse({ description: 'Ready to take traffic' })
  @ApiServiceUnavailableResponse({ description: 'Loading, failed to load, or shutting down' })
  ready(): Promise<HealthCheckResult> {
    return this.checkStrategies(true);
  }

  @Get('dependencies')
  @HealthCheck()
  @ApiOperation({
    summary: 'Remote backends (TensorFlow Serving for v2): 200 when each has an AVAILABLE model version',
    description:
      'Not a readiness probe: a TF Serving outage fails v2 requests fast with 503 but must not pull the pod (and v1) ' +
      "out of service. Point dashboards and alerts here, or a v2-only deployment's readiness probe.",
  })
  @ApiOkResponse({ description: 'Every remote backend can serve' })
  @ApiServiceUnavailableResponse({ description: 'A remote backend is unreachable, loading, or has no such model' })
  dependencies(): Promise<HealthCheckResult> {
    return this.checkStrategies(false);
  }

  private checkStrategies(gatesReadiness: boolean): Promise<HealthCheckResult> {
    return this.health.check(
      this.registry
        .list()
        .filter((entry) => entry.gatesReadiness === gatesReadiness)
        .map((entry) => () => this.inference.check(entry)),
    );
  }
}
