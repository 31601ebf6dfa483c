import { Body, Controller, Get, HttpCode, HttpException, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Request, Response } from 'express';
import { z } from 'zod';
import { Public } from '../http/auth/auth.decorators';
import { problemType, sendProblem } from '../http/problem';
import { ConsoleAuth } from './console-auth';

const tokenBody = z.strictObject({ token: z.string().min(1).max(8192) });

/**
 * The console's sign-in, session and sign-out (/console/auth/*, /console/session). Public to the
 * token guard: each route checks the session cookie itself. Not part of the v1 API (nor its
 * OpenAPI document): the console is its only client.
 */
@ApiExcludeController()
@Controller('console')
export class ConsoleAuthController {
  constructor(private readonly auth: ConsoleAuth) {}

  @Get('session')
  @Public()
  async session(@Req() req: Request, @Res() res: Response): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    const view = await this.auth.view(req);
    if (view) {
      res.json(view);
      return;
    }
    sendProblem(res, {
      type: problemType('unauthenticated'),
      title: 'Unauthorized',
      status: 401,
      detail: 'not signed in',
      signIn: this.auth.signInMethods,
    });
  }

  @Get('auth/login')
  @Public()
  async login(@Req() req: Request, @Res() res: Response, @Query('returnTo') returnTo?: string): Promise<void> {
    if (!(await this.admitted(req, res))) return;
    const { location, cookie } = await this.auth.beginOidcSignIn(req, typeof returnTo === 'string' ? returnTo : '/console/');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Set-Cookie', cookie);
    res.redirect(303, location);
  }

  @Get('auth/callback')
  @Public()
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (!(await this.admitted(req, res))) return;
    res.setHeader('Cache-Control', 'no-store');
    let done: { location: string; cookies: string[] };
    try {
      done = await this.auth.finishOidcSignIn({ method: req.method, secure: req.secure, headers: req.headers, url: req.originalUrl });
    } catch (error) {
      // A person's browser goes back to the sign-in page, which shows why; any other client gets the problem.
      if (!(error instanceof HttpException) || !(req.headers.accept ?? '').includes('text/html')) throw error;
      res.redirect(303, `/console/sign-in?${new URLSearchParams({ error: problemDetail(error) })}`);
      return;
    }
    const { location, cookies } = done;
    res.setHeader('Set-Cookie', cookies);
    res.redirect(303, location);
  }

  @Post('auth/token')
  @Public()
  @HttpCode(204)
  async token(@Req() req: Request, @Res() res: Response, @Body() body: unknown): Promise<void> {
    if (!(await this.admitted(req, res))) return;
    this.auth.checkSameOrigin(req);
    const parsed = tokenBody.safeParse(body);
    if (!parsed.success) {
      const errors = parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
      sendProblem(res, { type: problemType('validation'), title: 'Invalid request', status: 400, detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors });
      return;
    }
    const cookie = await this.auth.signInWithToken(req, parsed.data.token);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Set-Cookie', cookie);
    res.status(204).end();
  }

  @Post('auth/logout')
  @Public()
  async logout(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (!(await this.admitted(req, res))) return;
    this.auth.checkSameOrigin(req);
    const cookie = await this.auth.signOut(req);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Set-Cookie', cookie);
    res.status(204).end();
  }

  /** Counts the request against its client address's budget for /console/auth/*; answers 429 past it. */
  private async admitted(req: Request, res: Response): Promise<boolean> {
    const retryAfter = await this.auth.limiter.take(req.socket.remoteAddress);
    if (retryAfter === undefined) return true;
    const { points, seconds } = this.auth.limiter.limit;
    sendProblem(
      res,
      {
        type: problemType('rate_limited'),
        title: 'Too many requests',
        status: 429,
        detail: `more than ${points} console sign-in requests per ${seconds} s from this address; retry in ${retryAfter} s`,
      },
      { 'Retry-After': String(retryAfter), 'Cache-Control': 'no-store' },
    );
    return false;
  }
}

function problemDetail(error: HttpException): string {
  const body = error.getResponse();
  const message = typeof body === 'string' ? body : (body as { message?: unknown }).message;
  return typeof message === 'string' ? message : error.message;
}
