import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line about one request or one job carries, without passing a logger around. */
export interface LogContext {
  requestId?: string;
  jobId?: string;
  siteId?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

export function runWithContext<T>(context: LogContext, fn: () => T): T {
  return storage.run({ ...context }, fn);
}

export function getContext(): LogContext | undefined {
  return storage.getStore();
}

/** Adds a value to the current context (for example the site once the body is parsed). */
export function setContextValue<K extends keyof LogContext>(key: K, value: LogContext[K]): void {
  const store = storage.getStore();
  if (store) store[key] = value;
}
