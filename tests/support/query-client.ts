import type TestAgent from 'supertest/lib/agent';
import type { TestSite } from '@analytics/testkit';
import { getSiteModel } from '@analytics/common';
import type { TestSystem } from './system';

export interface QueryAnswerBody {
  results: {
    dimensions: string[];
    metrics: (number | null)[];
    comparison?: { dimensions: string[]; metrics: number[]; change: (number | null)[] };
  }[];
  meta: { time_labels?: string[]; total_rows?: number; documents_read: number };
  query: { date_range: [string, string] };
}

/** POST /api/v2/query with the site's read key; fails the test unless it answers 200. */
export async function query(
  report: TestAgent,
  site: TestSite,
  body: Record<string, unknown>,
): Promise<QueryAnswerBody> {
  const res = await report
    .post('/api/v2/query')
    .set('authorization', `Bearer ${site.readKey}`)
    .send({ site_id: site.siteId, ...body });
  if (res.status !== 200) throw new Error(`query answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as QueryAnswerBody;
}

/** Gives a site a timezone and domains straight in the database, and makes ingestion see them. */
export async function configureSite(
  system: TestSystem,
  site: TestSite,
  settings: { timezone?: string; domains?: string[] },
): Promise<void> {
  await getSiteModel(system.ingestion.mongo).collection.updateOne(
    { site_id: site.siteId },
    { $set: settings },
  );
  await system.ingestion.sites.refresh();
}
