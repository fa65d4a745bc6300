import mongoose from 'mongoose';

export interface MongoOptions {
  /** How long one operation waits for a server before failing (so a request never hangs). */
  serverSelectionTimeoutMS?: number;
  appName?: string;
}

/**
 * Opens a dedicated Mongoose connection. `autoCreate: false` because collections are created on first
 * write (MongoDB does that anyway) and the test engine has no `create` command; indexes are still built.
 */
export async function connectMongo(uri: string, options: MongoOptions = {}): Promise<mongoose.Connection> {
  const connection = mongoose.createConnection(uri, {
    autoCreate: false,
    autoIndex: true,
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 5000,
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
