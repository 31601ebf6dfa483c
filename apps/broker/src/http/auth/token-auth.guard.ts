import { CanActivate, ExecutionContext, Injectable, Optional, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Actor, Role, ROLES } from '@jit/grants';
import { OidcAuthError, OidcTokenVerifier } from '@jit/identity';
import { IS_PUBLIC } from './auth.decorators';
import { TokenRegistry } from './token-registry';

/** Subjects are stored in indexed columns of every grant and audit event. */
const MAX_OIDC_SUBJECT = 512;

@Injectable()
export class TokenAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenRegistry,
    @Optional() private readonly oidc?: OidcTokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; actor?: Actor }>();
    const header = request.headers['authorization'];
    if (!header) throw new UnauthorizedException('missing Authorization: Bearer <token>');
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
    const roles = identity.roles.filter((r): r is Role => (ROLES as readonly string[]).includes(r));
    if (!roles.length) throw new UnauthorizedException('issuer grants no broker role');
    if (identity.subject.length > MAX_OIDC_SUBJECT) throw new UnauthorizedException(`token subject is longer than ${MAX_OIDC_SUBJECT} characters`);
    // Prefixed, so a group named in one issuer's claim never stands for a group of the rules file or of another issuer.
    const groups = identity.groups.map((g) => `${identity.issuerName}:${g}`);
    return { subject: identity.subject, roles, groups, claims: identity.claims, issuer: identity.issuerName };
  }
}
