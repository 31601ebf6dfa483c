export * from './cloud';
export * from './duration';
export * from './grant';
export * from './grant.exception';
export * from './grant-request';
export * from './target';
export * from './ports/cloud-access.provider.port';
export * from './ports/clock.port';
