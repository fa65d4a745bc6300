import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { gzipSync } from 'node:zlib';
import { StartupError } from '@analytics/common';

/** The built tracker, read once at start: its bytes, gzipped bytes and strong ETag. */
export interface TrackerScript {
  body: Buffer;
  gzipped: Buffer;
  etag: string;
}

/** Where the build puts the tag (tracker/dist/script.js, through the workspace package). */
export function trackerScriptPath(): string {
  return require.resolve('@analytics/tracker/script.js');
}

export function loadTrackerScript(file = trackerScriptPath()): TrackerScript {
  let body: Buffer;
  try {
    body = fs.readFileSync(file);
  } catch (error) {
    throw new StartupError(`the tracker script is missing (${file})`, 'Build it: npm run build.', error);
  }
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, gzipped: gzipSync(body, { level: 9 }), etag };
}
