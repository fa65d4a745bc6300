export default async function globalTeardown(): Promise<void> {
  const started = globalThis.__TEST_SERVERS__ ?? [];
  await Promise.all(started.map((server) => server.stop()));
  globalThis.__TEST_SERVERS__ = [];
}
