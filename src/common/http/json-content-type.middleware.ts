import { Injectable, type NestMiddleware, UnsupportedMediaTypeException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MESSAGES } from '../errors/index.js';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** Requests that carry a body must say it is JSON: anything else is 415, not a confusing validation error. */
@Injectable()
export class JsonContentTypeMiddleware implements NestMiddleware {
  use(req: Request, _res: Response, next: NextFunction): void {
    if (BODY_METHODS.has(req.method) && !req.is(['application/json', 'application/*+json'])) {
      throw new UnsupportedMediaTypeException(MESSAGES.UNSUPPORTED_MEDIA_TYPE(req.headers['content-type']));
    }
    next();
  }
}
