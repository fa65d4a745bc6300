/** Hides the password of a connection string before it reaches a log or the terminal. */
export function redactUri(uri: string): string {
  try {
    const url = new URL(uri);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable URI)';
  }
}

/**
 * A dependency that cannot be reached at start stops the service with one line saying what to do,
 * not a driver's stack trace. pm2 restarts it with a back-off.
 */
export function exitOnStartupFailure(service: string, what: string, error: unknown, hint: string): never {
  const reason = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${service}: ${what} (${reason}). ${hint}\n`);
  process.exit(1);
}

/** A dependency that could not be reached while starting; index.ts turns it into one line and exit 1. */
export class StartupError extends Error {
  constructor(
    readonly what: string,
    readonly hint: string,
    cause: unknown,
  ) {
    super(what, { cause });
    this.name = 'StartupError';
  }
}
