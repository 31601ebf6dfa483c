export type Colour = 'red' | 'green' | 'yellow' | 'cyan' | 'gray' | 'bold';

/**
 * SGR codes (open, close) for the few styles the CLI uses. Written out rather than taken from
 * util.styleText, whose own terminal check (of stdout, whatever the stream) differs between
 * Node lines.
 */
const SGR: Record<Colour, [number, number]> = { red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39], gray: [90, 39], bold: [1, 22] };

/** Colour for a stream: only on a terminal, and never with NO_COLOR set (https://no-color.org) or TERM=dumb. */
export function colourFor(stream: Pick<NodeJS.WriteStream, 'isTTY'>, env: NodeJS.ProcessEnv = process.env): (colour: Colour, text: string) => string {
  const on = Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
  return on ? (colour, text) => `\u001b[${SGR[colour][0]}m${text}\u001b[${SGR[colour][1]}m` : (_colour, text) => text;
}

/** The colour a grant state is shown in. */
export function stateColour(state: string): Colour {
  if (state === 'active') return 'green';
  if (state === 'denied' || state === 'failed' || state === 'revoke_failed') return 'red';
  if (state === 'pending_approval' || state === 'provisioning' || state === 'revoking') return 'yellow';
  return 'gray';
}
