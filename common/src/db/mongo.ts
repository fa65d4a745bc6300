import mongoose from 'mongoose';
import { databaseUnavailable } from '../errors';
import { redactUri, StartupError } from '../startup';
import { TimeoutError, withTimeout } from '../timeout';

/** Upper bound on any one MongoDB operation, so a frozen server becomes a 503, never a hang. */
export const MONGO_OPERATION_TIMEOUT_MS = 5000;

export interface MongoOptions {
  /** How long the first connection waits for a server before failing. */
  serverSelectionTimeoutMS?: number;

  appName?: string;
}

/**
 * True when the URI asks to read from secondaries (`readPreference=secondary` or `secondaryPreferred`,
 * e.g. reporting on a replica set): such a connection cannot build indexes (MongoDB and Mongoose refuse),
 * so it leaves them to the services that connect to the primary.
 */
export function readsFromSecondaries(uri: string): boolean {
  const query = uri.split('?')[1] ?? '';
  return /(^|&)readPreference=(secondary|secondaryPreferred)(&|$)/i.test(query);
}

/**
 * Opens a dedicated Mongoose connection. `autoCreate: false` because collections are created on first
 * write (MongoDB does that anyway) and the test engine has no `create` command; indexes are still built,
 * except on a connection that reads from secondaries. Write concern, read preference and retryable
 * writes are the URI's (docs/operations.md, "MongoDB replica set"): nothing here overrides them.
 */
export async function connectMongo(uri: string, options: MongoOptions = {}): Promise<mongoose.Connection> {
  const connection = mongoose.createConnection(uri, {
    autoCreate: false,
    autoIndex: !readsFromSecondaries(uri),
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 5000,
    // Fail at once while disconnected instead of queueing operations in memory.
    bufferCommands: false,
    appName: options.appName,
  });
  await connection.asPromise();
  return connection;
}

/** Answers within the caller's timeout whether MongoDB responds to a ping. */
export async function pingMongo(connection: mongoose.Connection): Promise<void> {
  const db = connection.db;
  if (!db || connection.readyState !== mongoose.ConnectionStates.connected) {
    throw new Error('MongoDB is not connected');
  }
  await db.command({ ping: 1 });
}

/**
 * Bounds one MongoDB operation on the request path: a frozen or unreachable server becomes a 503
 * within MONGO_OPERATION_TIMEOUT_MS (the driver has no client-side operation timeout any more: its
 * `timeoutMS` is deprecated and ignored). Give the server the same deadline with `maxTimeMS` in the
 * operation's options, so work the client gave up on stops there too.
 * `what` names the operation in the error ("mongodb insert events did not answer within 5000 ms").
 */
export async function boundedMongo<T>(
  operation: Promise<T>,
  ms = MONGO_OPERATION_TIMEOUT_MS,
  what = 'mongodb',
): Promise<T> {
  try {
    return await withTimeout(operation, ms, what);
  } catch (error) {
    if (error instanceof TimeoutError) throw databaseUnavailable(error);
    throw error;
  }
}

/** Closes politely, but forces the close after `ms` so a frozen server cannot hold up a shutdown. */
export async function closeMongo(connection: mongoose.Connection, ms = 2000): Promise<void> {
  try {
    await withTimeout(connection.close(), ms, 'mongodb close');
  } catch {
    await connection.close(true).catch(() => undefined);
  }
}

/** connectMongo for a service start: an unreachable server is a StartupError saying what to do. */
export async function connectMongoAtStart(uri: string, appName: string): Promise<mongoose.Connection> {
  try {
    return await connectMongo(uri, { appName });
  } catch (error) {
    throw new StartupError(
      `cannot reach MongoDB at ${redactUri(uri)}`,
      'Start MongoDB or set MONGODB_URI.',
      error,
    );
  }
}

/**
 * Whether a failed insert failed only on duplicate keys, on either engine: MongoDB lists the duplicates
 * (and stored the rest of an unordered insert); the test engine stores nothing and lists none.
 */
export function isDuplicateKeyError(error: unknown): boolean {
  const { code, writeErrors } = error as { code?: unknown; writeErrors?: unknown };
  if (code === 11000) return true;
  const errors = Array.isArray(writeErrors) ? (writeErrors as { code?: unknown }[]) : [];
  return errors.length > 0 && errors.every((e) => e.code === 11000);
}
