import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { NextFunction, Request, Response } from 'express';
import { problemType, sendProblem } from '../http/problem';

/** Vite names every built asset by its content hash: it can be cached for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * The Content-Security-Policy of every /console response: scripts, styles, images and API
 * calls from this origin only (no inline script or style, no eval), no framing, no plugins, and
 * forms may post only here or to the sign-in issuer.
 */
export function consoleCsp(issuerOrigin?: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    `form-action 'self'${issuerOrigin ? ` ${issuerOrigin}` : ''}`,
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Serves the built console (`JIT_CONSOLE_DIR`) under /console: hashed assets cached for a year,
 * index.html revalidated on every load, and any other /console/<page> path answered with
 * index.html so the single-page app routes it. The sign-in routes (/console/auth/*) and
 * /console/session pass on to their controller. Every /console response gets the security headers.
 */
export function consoleStaticMiddleware(dir: string, issuerOrigin?: string) {
  const root = resolve(dir);
  const index = join(root, 'index.html');
  const csp = consoleCsp(issuerOrigin);
  const serve = express.static(root, {
    index: false,
    redirect: false,
    fallthrough: true,
    setHeaders: (res, path) => res.setHeader('Cache-Control', path.startsWith(join(root, 'assets')) ? IMMUTABLE : 'no-cache'),
  });
  return (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    // Mounted at /console: req.url is the rest of the path.
    const path = req.path;
    if (path.startsWith('/auth/') || path === '/session') return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.originalUrl === '/console' || req.originalUrl.startsWith('/console?')) return res.redirect(308, '/console/');
    if (!existsSync(index)) {
      return sendProblem(res, { type: problemType('not_found'), title: 'Not Found', status: 404, detail: `the console is not built (npm run build:console) or JIT_CONSOLE_DIR (${dir}) is wrong` });
    }
    serve(req, res, () => {
      // A file that is not there (an asset of an older build) is a 404; anything else is a page of the app.
      if (/\.[a-z0-9]+$/i.test(path)) {
        return sendProblem(res, { type: problemType('not_found'), title: 'Not Found', status: 404, detail: `no console file ${path}` });
      }
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(index);
    });
  };
}
