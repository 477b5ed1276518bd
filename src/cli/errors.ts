/**
 * How commands end with a non-zero exit code: they throw a CliError; `main` prints its message
 * (never a stack trace) and returns its code. See docs/cli.md for the table of exit codes.
 */
export const EXIT = {
  OK: 0,
  /** The command ran but found problems (e.g. `plexus config` reported problems). */
  PROBLEMS: 1,
  /** Bad usage, unreadable input, or a failure to start. */
  FAILURE: 2,
} as const;

export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.FAILURE) {
    super(message);
    this.name = 'CliError';
  }
}

/** A usage mistake found by the argument parser (unknown option, missing value, ...). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.FAILURE);
    this.name = 'UsageError';
  }
}
