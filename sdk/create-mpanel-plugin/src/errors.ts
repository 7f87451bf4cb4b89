/**
 * Failures the CLI reports as one clear line instead of a stack trace. The
 * exit code tells scripts whose fault it was: 2 = the command line cannot be
 * used as given (fix the arguments), 1 = something went wrong while working.
 */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2) {
    super(message);
    this.name = 'CliError';
  }
}

/** Bad arguments: unknown option, invalid name, occupied directory. Exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}
