/** Exit codes of the `livestream` command. */
export const EXIT = {
  ok: 0,
  /** Unexpected failure. */
  failure: 1,
  /** Bad flags or arguments. */
  usage: 2,
  /** A resource is unavailable: port in use, unreadable root, server unreachable. */
  unavailable: 3,
} as const;

/** An error meant for the user: its message is printed as one line, without a stack. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT.failure) {
    super(message);
    this.exitCode = exitCode;
  }
}
