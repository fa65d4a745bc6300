import type mongoose from 'mongoose';
import { AppError, getVisitPartModel, VISIT_GAP_MS, type VisitPartDocument } from '@analytics/common';

/** How far one step of a visit's extension reads beyond what is known of it. */
const EXTENSION_STEP_MS = 24 * 3_600_000;
/** Visitors per `$in` of an extension read. */
const VISITORS_PER_READ = 1000;

/** A query's reads share its deadline: each gets what is left of it, as maxTimeMS. */
export interface Deadline {
  remainingMs(): number;
}

export function queryTimeout(): AppError {
  return new AppError(
    'query-timeout',
    'The query took longer than its deadline; ask for a shorter range or fewer dimensions',
    {
      status: 503,
    },
  );
}

async function readParts(
  connection: mongoose.Connection,
  filter: Record<string, unknown>,
  deadline: Deadline,
): Promise<VisitPartDocument[]> {
  const maxTimeMS = deadline.remainingMs();
  if (maxTimeMS <= 0) throw queryTimeout();
  const collection = getVisitPartModel(connection)
    .collection as unknown as mongoose.mongo.Collection<VisitPartDocument>;
  try {
    return await collection.find(filter, { maxTimeMS }).toArray();
  } catch (error) {
    if ((error as { code?: unknown }).code === 50) throw queryTimeout(); // MaxTimeMSExpired
    throw error;
  }
}

/**
 * The parts of every visit that has an event in [startMs, endMs): the site's parts of the range, then, for visitors
 * whose known parts reach within 30 minutes of either edge, their parts beyond it, a day at a time, until
 * no visit can reach further. Documents read grow with the visitors and values of the range, never with
 * its raw events (docs/architecture.md, "Visitors and visits").
 */
export async function readVisitParts(
  connection: mongoose.Connection,
  siteId: string,
  startMs: number,
  endMs: number,
  deadline: Deadline,
): Promise<VisitPartDocument[]> {
  const parts = await readParts(
    connection,
    { site_id: siteId, b: { $gte: new Date(startMs), $lt: new Date(endMs) } },
    deadline,
  );
  const earliest = new Map<string, number>();
  const latest = new Map<string, number>();
  const note = (part: VisitPartDocument) => {
    earliest.set(part.visitor, Math.min(earliest.get(part.visitor) ?? Infinity, part.ft.getTime()));
    latest.set(part.visitor, Math.max(latest.get(part.visitor) ?? -Infinity, part.lt.getTime()));
  };
  parts.forEach(note);

  const extend = async (direction: 'before' | 'after') => {
    let edge = direction === 'before' ? startMs : endMs;
    let reaching = [...(direction === 'before' ? earliest : latest)]
      .filter(([, at]) => (direction === 'before' ? at - edge < VISIT_GAP_MS : edge - at <= VISIT_GAP_MS))
      .map(([visitor]) => visitor);
    while (reaching.length > 0) {
      const [lo, hi] =
        direction === 'before' ? [edge - EXTENSION_STEP_MS, edge] : [edge, edge + EXTENSION_STEP_MS];
      const found: VisitPartDocument[] = [];
      for (let i = 0; i < reaching.length; i += VISITORS_PER_READ) {
        found.push(
          ...(await readParts(
            connection,
            {
              site_id: siteId,
              visitor: { $in: reaching.slice(i, i + VISITORS_PER_READ) },
              b: { $gte: new Date(lo), $lt: new Date(hi) },
            },
            deadline,
          )),
        );
      }
      found.forEach(note);
      parts.push(...found);
      // Only a visitor with an event this step that still reaches the new edge can go on.
      const seen = new Set(found.map((p) => p.visitor));
      edge = direction === 'before' ? lo : hi;
      reaching = reaching.filter((visitor) => {
        if (!seen.has(visitor)) return false;
        return direction === 'before'
          ? earliest.get(visitor)! - edge < VISIT_GAP_MS
          : edge - latest.get(visitor)! <= VISIT_GAP_MS;
      });
    }
  };
  await extend('before');
  await extend('after');
  return parts;
}

/** The site's first bucket with data (for `all`), or undefined. */
export async function readFirstDataAt(
  connection: mongoose.Connection,
  siteId: string,
  deadline: Deadline,
): Promise<Date | undefined> {
  const collection = getVisitPartModel(connection)
    .collection as unknown as mongoose.mongo.Collection<VisitPartDocument>;
  const [first] = await collection
    .find({ site_id: siteId }, { maxTimeMS: Math.max(1, deadline.remainingMs()) })
    .sort({ b: 1 })
    .limit(1)
    .toArray();
  return first?.b;
}
