import { connectMongo, getSiteModel, readsFromSecondaries } from '@analytics/common';
import { dropTestDatabase, testMongoUri, uniqueTestNames } from '@analytics/testkit';
import type mongoose from 'mongoose';

/**
 * Replica-set settings come from MONGODB_URI alone (docs/operations.md, "MongoDB replica set"):
 * connectMongo sets none of them, so what the operator writes in the URI is what the driver uses.
 */
describe('connectMongo and the options of MONGODB_URI', () => {
  let connection: mongoose.Connection | undefined;
  afterEach(async () => {
    if (connection) await dropTestDatabase(connection);
    await connection?.close();
    connection = undefined;
  });

  it('when the URI sets w=majority, a read preference and retryable writes, then the driver uses exactly those, and writes and reads work', async () => {
    const uri = testMongoUri(uniqueTestNames('urioptions').database);
    const options =
      'w=majority&wtimeoutMS=5000&readPreference=secondaryPreferred&maxStalenessSeconds=90&retryWrites=true&retryReads=true';
    connection = await connectMongo(`${uri}${uri.includes('?') ? '&' : '?'}${options}`);
    const client = connection.getClient().options;
    expect(client.writeConcern?.w).toBe('majority');
    expect(client.readPreference.mode).toBe('secondaryPreferred');
    expect(client.readPreference.maxStalenessSeconds).toBe(90);
    expect(client.retryWrites).toBe(true);
    expect(client.retryReads).toBe(true);
    const sites = getSiteModel(connection);
    await sites.collection.insertOne({ site_id: 'uri-options', name: 'x' });
    expect(await sites.collection.countDocuments({ site_id: 'uri-options' })).toBe(1);
    // Reading from secondaries, it builds no index (MongoDB refuses); primary-connected services do.
    expect(connection.get('autoIndex')).toBe(false);
  });

  it.each([
    ['mongodb://a,b,c/analytics?replicaSet=rs0&readPreference=secondaryPreferred', true],
    ['mongodb://a/analytics?readPreference=secondary&w=majority', true],
    ['mongodb://a/analytics?readPreference=primaryPreferred', false],
    ['mongodb://a/analytics?readPreference=nearest', false],
    ['mongodb://a/analytics', false],
  ])('when the URI is %s, then reading from secondaries is %s', (uri, expected) => {
    expect(readsFromSecondaries(uri)).toBe(expected);
  });

  it('when the URI sets nothing, then the driver defaults apply (primary reads, retryable writes)', async () => {
    connection = await connectMongo(testMongoUri(uniqueTestNames('urioptions').database));
    const client = connection.getClient().options;
    expect(client.readPreference.mode).toBe('primary');
    expect(client.retryWrites).toBe(true);
  });
});
