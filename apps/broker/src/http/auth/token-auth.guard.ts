import { CanActivate, ExecutionContext, Injectable, Optional, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Actor } from '@jit/grants';
import { OidcAuthError, OidcTokenVerifier } from '@jit/identity';
import { ConsoleAuth } from '../../console/console-auth';
import { IS_PUBLIC } from './auth.decorators';
import { actorOfOidcIdentity } from './oidc-actor';
import { TokenRegistry } from './token-registry';

@Injectable()
export class TokenAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenRegistry,
    @Optional() private readonly oidc?: OidcTokenVerifier,
    @Optional() private readonly console?: ConsoleAuth,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<{ method: string; secure?: boolean; headers: Record<string, string | undefined>; actor?: Actor }>();
    const header = request.headers['authorization'];
    if (!header) {
      // The console's session cookie stands for the same actor as the token that signed in (CSRF-checked for writes).
      const actor = await this.console?.actorOfRequest(request);
      if (!actor) throw new UnauthorizedException('missing Authorization: Bearer <token>');
      request.actor = actor;
      return true;
    }
    // OIDC ID tokens with many claims outgrow the 4 KiB that suffices for static tokens.
    const match = /^Bearer ([\x21-\x7e]{1,8192})$/i.exec(header);
    if (!match) throw new UnauthorizedException('Authorization must be "Bearer <token>"');
    const token = match[1];
    if (this.oidc && OidcTokenVerifier.looksLikeJwt(token)) {
      request.actor = await this.oidcActor(this.oidc, token);
      return true;
    }
    const actor = this.tokens.resolve(token);
    if (!actor) throw new UnauthorizedException('unknown or revoked token');
    request.actor = actor;
    return true;
  }

  private async oidcActor(oidc: OidcTokenVerifier, token: string): Promise<Actor> {
    let identity;
    try {
      identity = await oidc.verify(token);
    } catch (error) {
      if (!(error instanceof OidcAuthError)) throw error;
      if (error.status === 503) throw new ServiceUnavailableException(error.reason);
      throw new UnauthorizedException(error.reason);
    }
    return actorOfOidcIdentity(identity);
  }
}
