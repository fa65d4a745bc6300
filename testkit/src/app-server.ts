import type http from 'node:http';
import type { Express } from 'express';
import { createAppServer } from '@analytics/common';

export interface ListeningAppServer {
  /** Listening on a free loopback port: hand it to supertest, which then reuses it for every request. */
  server: http.Server;
  close(): Promise<void>;
}

/** The app behind the same server a service process runs (createAppServer), for in-process tests. */
export function listenAppServer(app: Express): Promise<ListeningAppServer> {
  const server = createAppServer(app);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        close: () =>
          new Promise<void>((closed) => {
            server.close(() => closed());
            server.closeAllConnections();
          }),
      }),
    );
  });
}
