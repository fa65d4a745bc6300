import { randomBytes } from 'node:crypto';
import type mongoose from 'mongoose';
import { getSiteModel, newSiteKeys } from '@analytics/common';

export interface TestSite {
  siteId: string;
  writeKey: string;
  readKey: string;
}

/** Registers a site straight in the database (as POST /sites would) and returns its keys. */
export async function insertTestSite(connection: mongoose.Connection, siteId?: string): Promise<TestSite> {
  const keys = newSiteKeys();
  const id = siteId ?? `site-${randomBytes(4).toString('hex')}`;
  const now = new Date();
  await getSiteModel(connection).collection.insertOne({
    site_id: id,
    name: `Test site ${id}`,
    write_key_hash: keys.writeKeyHash,
    read_key_hash: keys.readKeyHash,
    created_at: now,
    updated_at: now,
  });
  return { siteId: id, writeKey: keys.writeKey, readKey: keys.readKey };
}
