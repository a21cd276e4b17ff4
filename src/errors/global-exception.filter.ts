import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Inject,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { STATUS_CODES } from 'node:http';
import { DomainError, type DomainErrorKind } from './domain.errors.js';
import { MESSAGES } from './messages.constant.js';

/** Body of every error response. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: string[];
  requestId: string;
}

interface Mapped {
  status: number;
  message: string;
  details?: string[];
  headers?: Record<string, string>;
  /** Send this body instead of an ErrorBody (Terminus health results keep their own shape). */
  raw?: object;
}

/** A Terminus health-check result (`{status, info, error, details}`), thrown as a 503 when not healthy. */
function isHealthCheckResult(body: unknown): body is object {
  return typeof body === 'object' && body !== null && 'status' in body && 'details' in body && 'error' in body;
}

/** nginx's "client closed request". */
const CLIENT_CLOSED_REQUEST = 499;

const DOMAIN_STATUS: Record<DomainErrorKind, number> = {
  model_not_ready: HttpStatus.SERVICE_UNAVAILABLE,
  invalid_input: HttpStatus.BAD_REQUEST,
  upstream_unavailable: HttpStatus.SERVICE_UNAVAILABLE,
  upstream_timeout: HttpStatus.GATEWAY_TIMEOUT,
  upstream_failed: HttpStatus.BAD_GATEWAY,
  overloaded: HttpStatus.TOO_MANY_REQUESTS,
  /** nginx's "client closed request": logged, never read by the client. */
  aborted: CLIENT_CLOSED_REQUEST,
  deadline_exceeded: HttpStatus.GATEWAY_TIMEOUT,
};

/** Fastify's own request errors (body parsing, content type), as Nest hands them over: the cause of an HttpException. */
interface FastifyError {
  code: string;
  statusCode: number;
}

function isFastifyError(error: unknown): error is FastifyError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as FastifyError).code === 'string' &&
    (error as FastifyError).code.startsWith('FST_') &&
    typeof (error as FastifyError).statusCode === 'number'
  );
}

/**
 * The one place errors become HTTP: domain errors by kind, Nest's HTTP exceptions as they are (validation
 * failures keep every message in `details`), Fastify's body failures as 400/413/415, anything else as a 500 with
 * no internals. Every body has the same shape and the request id.
 */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<FastifyRequest>();
    const res = ctx.getResponse<FastifyReply>();
    const id = req.id;
    // A client gone before its answer (it closed the connection while sending its body, or while the model ran) is
    // not a server error: nginx's 499, logged at info, nothing sent.
    const clientGone = req.raw.socket?.destroyed === true;
    const mapped = clientGone
      ? { status: CLIENT_CLOSED_REQUEST, message: MESSAGES.REQUEST_ABORTED }
      : this.map(exception, req);
    if (mapped.status === CLIENT_CLOSED_REQUEST) {
      this.logger.log({
        msg: 'client closed request',
        status: CLIENT_CLOSED_REQUEST,
        method: req.method,
        url: req.url,
        reqId: id,
        reason: exception instanceof Error ? exception.message : String(exception),
      });
      if (clientGone) {
        return;
      }
    } else if (mapped.status >= 500) {
      this.logger.error({
        msg: 'request failed',
        status: mapped.status,
        method: req.method,
        url: req.url,
        reqId: id,
        err:
          exception instanceof Error
            ? { name: exception.name, message: exception.message, stack: exception.stack }
            : exception,
      });
    }
    if (res.sent || res.raw.headersSent) {
      return;
    }
    if (mapped.raw) {
      void res.status(mapped.status).send(mapped.raw);
      return;
    }
    const body: ErrorBody = {
      statusCode: mapped.status,
      error: STATUS_CODES[mapped.status] ?? 'Error',
      message: mapped.message,
      ...(mapped.details && mapped.details.length > 1 ? { details: mapped.details } : {}),
      requestId: id,
    };
    void res
      .headers(mapped.headers ?? {})
      .status(mapped.status)
      .send(body);
  }

  private map(exception: unknown, req: FastifyRequest): Mapped {
    if (exception instanceof DomainError) {
      const status = DOMAIN_STATUS[exception.kind];
      const retryAfter = 'retryAfterSeconds' in exception ? exception.retryAfterSeconds : undefined;
      return {
        status,
        message: exception.message,
        ...(typeof retryAfter === 'number' ? { headers: { 'Retry-After': String(retryAfter) } } : {}),
      };
    }
    // Nest wraps Fastify's request errors in an HttpException whose cause is the original error.
    const fastifyError = exception instanceof HttpException ? exception.cause : exception;
    if (isFastifyError(fastifyError)) {
      return this.fromFastify(fastifyError, req);
    }
    if (exception instanceof HttpException) {
      return this.fromHttpException(exception, req);
    }
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, message: MESSAGES.INTERNAL };
  }

  private fromHttpException(exception: HttpException, req: FastifyRequest): Mapped {
    const status = exception.getStatus();
    const response = exception.getResponse();
    if (isHealthCheckResult(response)) {
      return { status, message: 'unhealthy', raw: response };
    }
    if (
      exception instanceof NotFoundException &&
      typeof response === 'object' &&
      /^Cannot /.test(String((response as { message?: unknown }).message))
    ) {
      return { status, message: MESSAGES.ROUTE_NOT_FOUND(req.method, req.url.split('?')[0]!) };
    }
    const raw = typeof response === 'string' ? response : (response as { message?: unknown }).message;
    const details = Array.isArray(raw) ? raw.map(String) : undefined;
    const message = details ? details.join('; ') : typeof raw === 'string' ? raw : exception.message;
    return { status, message, ...(details ? { details } : {}) };
  }

  private fromFastify(error: FastifyError, req: FastifyRequest): Mapped {
    switch (error.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return { status: HttpStatus.BAD_REQUEST, message: MESSAGES.MALFORMED_JSON };
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return {
          status: HttpStatus.PAYLOAD_TOO_LARGE,
          message: MESSAGES.BODY_TOO_LARGE(`${this.config.server.bodyLimit} bytes`),
        };
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return {
          status: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
          message: MESSAGES.UNSUPPORTED_MEDIA_TYPE(req.headers['content-type']),
        };
      default:
        return error.statusCode >= 400 && error.statusCode < 500
          ? { status: error.statusCode, message: `the request could not be read (${error.code})` }
          : { status: HttpStatus.INTERNAL_SERVER_ERROR, message: MESSAGES.INTERNAL };
    }
  }
}
