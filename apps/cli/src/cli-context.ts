import type { Command } from 'commander';
import type { BrokerApi } from './core/broker-api';
import { httpBroker } from './core/http-broker';
import { ConnectionFlags, Settings, resolveSettings } from './core/settings';
import { Paint } from './output/grant-text';
import { colourFor } from './output/style';

/** The flags every command takes (declared on the program). */
export interface GlobalFlags extends ConnectionFlags {
  json?: boolean;
  debug?: boolean;
}

/** What a command's action needs: its flags, the broker (connected on first use), and where to write. */
export class CliContext {
  private resolved: Settings | null = null;
  private connected: BrokerApi | null = null;
  readonly paintOut: Paint;
  readonly paintErr: Paint;

  constructor(
    readonly flags: GlobalFlags,
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.paintOut = colourFor(process.stdout, env);
    this.paintErr = colourFor(process.stderr, env);
  }

  static of(command: Command): CliContext {
    return new CliContext(command.optsWithGlobals<GlobalFlags>());
  }

  get json(): boolean {
    return Boolean(this.flags.json);
  }

  /** The broker URL, the token's source and the credential variables (resolved on first use). */
  get settings(): Settings {
    this.resolved ??= resolveSettings(this.flags, this.env);
    return this.resolved;
  }

  get broker(): BrokerApi {
    this.connected ??= httpBroker(this.settings.url, this.settings.token);
    return this.connected;
  }

  out(text: string): void {
    process.stdout.write(text);
  }

  /** One JSON document on stdout (`--json`), for scripts. */
  outJson(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Messages for people, progress and errors: stderr, so stdout stays the command's answer. */
  err(text: string): void {
    process.stderr.write(text);
  }
}
