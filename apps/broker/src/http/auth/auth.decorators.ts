import { ExecutionContext, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Actor } from '@jit/grants';

export const IS_PUBLIC = 'jit:public';
/** The one unauthenticated route is /health. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  return ctx.switchToHttp().getRequest<{ actor: Actor }>().actor;
});
