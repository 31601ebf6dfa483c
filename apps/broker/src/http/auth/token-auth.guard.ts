import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Actor } from '@jit/grants';
import { IS_PUBLIC } from './auth.decorators';
import { TokenRegistry } from './token-registry';

@Injectable()
export class TokenAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenRegistry,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; actor?: Actor }>();
    const header = request.headers['authorization'];
    if (!header) throw new UnauthorizedException('missing Authorization: Bearer <token>');
    const match = /^Bearer ([\x21-\x7e]{1,4096})$/i.exec(header);
    if (!match) throw new UnauthorizedException('Authorization must be "Bearer <token>"');
    const actor = this.tokens.resolve(match[1]);
    if (!actor) throw new UnauthorizedException('unknown or revoked token');
    request.actor = actor;
    return true;
  }
}
