import path from 'node:path';
import dotenv from 'dotenv';

/**
 * Loads `<serviceDir>/.env` by absolute path, so pm2's or jest's working directory does not matter.
 * Variables already set in the process environment win (dotenv never overrides).
 */
export function loadEnvFile(serviceDir: string): void {
  dotenv.config({ path: path.join(serviceDir, '.env'), quiet: true });
}
