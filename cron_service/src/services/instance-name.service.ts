import { randomBytes } from 'node:crypto';
import os from 'node:os';

/** Host, pid and a random tag: tells apart two cron processes, even two services in one test process. */
export function instanceName(): string {
  return `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}
