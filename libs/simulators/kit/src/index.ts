/**
 * What the three cloud simulators share and nothing else: a loopback HTTP(S) server with its
 * start and stop, the raw request body, fault injection (throttling and server errors, counted
 * or at a seeded rate, latency) and the log of calls tests inspect. Each simulator keeps its own wire format:
 * routes, envelopes, error codes and headers stay in its lib. Imports nothing in the repo.
 */
export { startLoopbackServer } from './loopback.server';
export type { LoopbackServer, LoopbackServerOptions, SimHandler } from './loopback.server';
export { readBody } from './request-body';
export { Countdown, FaultCounters, seededRandom } from './fault.counters';
export type { CountedFaults, CountedFault } from './fault.counters';
export { RequestLog } from './request.log';
