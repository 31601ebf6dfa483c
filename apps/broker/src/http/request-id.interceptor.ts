import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { Observable, tap } from 'rxjs';
import { Actor } from '@jit/grants';
import { assignLogFields } from '@jit/observability';

interface RoutedRequest {
  actor?: Actor;
  params?: Record<string, string>;
  method: string;
  route?: { path?: string };
}

/**
 * Once the token guard has established the caller and Nest has matched the route: adds `actor`
 * (the token's subject) and `grantId` (the route's `:id`, or the id of the grant a request
 * created) to the request's log scope, so every later line and the request's summary line carry
 * them; and names the HTTP server span by its route (`POST /v1/grants/:id/revoke`).
 */
@Injectable()
export class RequestLogFieldsInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<RoutedRequest>();
    const fields: Record<string, unknown> = {};
    if (request.actor) fields.actor = request.actor.subject;
    const grantId = request.params?.id;
    if (grantId) fields.grantId = grantId;
    if (Object.keys(fields).length) assignLogFields(fields);
    const route = request.route?.path;
    const span = trace.getActiveSpan();
    if (span && route) {
      span.updateName(`${request.method} ${route}`);
      span.setAttribute('http.route', route);
      if (grantId) span.setAttribute('grant.id', grantId);
    }
    return next.handle().pipe(
      tap((result: unknown) => {
        const created = !grantId && typeof result === 'object' && result !== null && typeof (result as { id?: unknown }).id === 'string' ? (result as { id: string }).id : undefined;
        if (created && request.route?.path === '/v1/grants') {
          assignLogFields({ grantId: created });
          span?.setAttribute('grant.id', created);
        }
      }),
    );
  }
}
