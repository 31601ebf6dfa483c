import { styleText } from 'node:util';

export type Colour = 'red' | 'green' | 'yellow' | 'cyan' | 'gray' | 'bold';

/** Colour for a stream: only on a terminal, and never with NO_COLOR set (https://no-color.org) or TERM=dumb. */
export function colourFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): (colour: Colour, text: string) => string {
  const on = Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
  return on ? (colour, text) => styleText(colour, text) : (_colour, text) => text;
}

/** The colour a grant state is shown in. */
export function stateColour(state: string): Colour {
  if (state === 'active') return 'green';
  if (state === 'denied' || state === 'failed' || state === 'revoke_failed') return 'red';
  if (state === 'pending_approval' || state === 'provisioning' || state === 'revoking') return 'yellow';
  return 'gray';
}
