import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { DomainError, type DomainErrorKind, MESSAGES } from '../errors/index.js';
import { requestId } from '../logging/request-id.js';

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

const DOMAIN_STATUS: Record<DomainErrorKind, number> = {
  model_not_ready: HttpStatus.SERVICE_UNAVAILABLE,
  invalid_input: HttpStatus.BAD_REQUEST,
  upstream_unavailable: HttpStatus.SERVICE_UNAVAILABLE,
  upstream_timeout: HttpStatus.GATEWAY_TIMEOUT,
  upstream_failed: HttpStatus.BAD_GATEWAY,
  overloaded: HttpStatus.TOO_MANY_REQUESTS,
  /** nginx's "client closed request": logged, never read by the client. */
  aborted: 499,
  deadline_exceeded: HttpStatus.GATEWAY_TIMEOUT,
};

/** Errors raised by Express' body parser before Nest sees the request (they carry `type` and `status`). */
interface BodyParserError {
  type: string;
  status: number;
  limit?: number;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as BodyParserError).type === 'string' &&
    typeof (error as BodyParserError).status === 'number'
  );
}

/**
 * The one place errors become HTTP: domain errors by kind, Nest's HTTP exceptions as they are (validation
 * failures keep every message in `details`), body-parser failures as 400/413/415, anything else as a 500 with
 * no internals. Every body has the same shape and the request id.
 */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request & { id?: unknown }>();
    const res = ctx.getResponse<Response>();
    const id = requestId(req, res);
    const mapped = this.map(exception, req);
    if (mapped.status >= 500) {
      this.logger.error({
        msg: 'request failed',
        status: mapped.status,
        method: req.method,
        url: req.originalUrl,
        reqId: id,
        err:
          exception instanceof Error
            ? { name: exception.name, message: exception.message, stack: exception.stack }
            : exception,
      });
    }
    if (res.headersSent) {
      return;
    }
    if (mapped.raw) {
      res.status(mapped.status).json(mapped.raw);
      return;
    }
    const body: ErrorBody = {
      statusCode: mapped.status,
      error: STATUS_CODES[mapped.status] ?? 'Error',
      message: mapped.message,
      ...(mapped.details && mapped.details.length > 1 ? { details: mapped.details } : {}),
      requestId: id,
    };
    for (const [name, value] of Object.entries(mapped.headers ?? {})) {
      res.setHeader(name, value);
    }
    res.status(mapped.status).json(body);
  }

  private map(exception: unknown, req: Request): Mapped {
    if (exception instanceof DomainError) {
      const status = DOMAIN_STATUS[exception.kind];
      const retryAfter = 'retryAfterSeconds' in exception ? exception.retryAfterSeconds : undefined;
      return {
        status,
        message: exception.message,
        ...(typeof retryAfter === 'number' ? { headers: { 'Retry-After': String(retryAfter) } } : {}),
      };
    }
    // Nest wraps Express body-parser failures in an HttpException whose cause is the original error.
    const parserError = exception instanceof HttpException ? exception.cause : exception;
    if (isBodyParserError(parserError)) {
      return this.fromBodyParser(parserError, req);
    }
    if (exception instanceof HttpException) {
      return this.fromHttpException(exception, req);
    }
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, message: MESSAGES.INTERNAL };
  }

  private fromHttpException(exception: HttpException, req: Request): Mapped {
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
      return { status, message: MESSAGES.ROUTE_NOT_FOUND(req.method, req.path) };
    }
    const raw = typeof response === 'string' ? response : (response as { message?: unknown }).message;
    const details = Array.isArray(raw) ? raw.map(String) : undefined;
    const message = details ? details.join('; ') : typeof raw === 'string' ? raw : exception.message;
    return { status, message, ...(details ? { details } : {}) };
  }

  private fromBodyParser(error: BodyParserError, req: Request): Mapped {
    switch (error.type) {
      case 'entity.parse.failed':
        return { status: HttpStatus.BAD_REQUEST, message: MESSAGES.MALFORMED_JSON };
      case 'entity.too.large':
        return {
          status: HttpStatus.PAYLOAD_TOO_LARGE,
          message: MESSAGES.BODY_TOO_LARGE(`${error.limit ?? '?'} bytes`),
        };
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return {
          status: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
          message: MESSAGES.UNSUPPORTED_MEDIA_TYPE(req.headers['content-type']),
        };
      default:
        return error.status >= 400 && error.status < 500
          ? { status: error.status, message: `the request body could not be read (${error.type})` }
          : { status: HttpStatus.INTERNAL_SERVER_ERROR, message: MESSAGES.INTERNAL };
    }
  }
}
