import mongoose from 'mongoose';
import { boundedMongo } from '@analytics/common';
import {
  getJobRunModel,
  type JobOutcome,
  type JobRunDocument,
  type JobTrigger,
} from '../models/job-run.model';

export interface RunStart {
  job: string;
  trigger: JobTrigger;
  queueJobId?: string;
  instance: string;
  startedAt: Date;
}

export interface RunEnd {
  finishedAt: Date;
  outcome: JobOutcome;
  error?: string;
  removed: number;
  batches: number;
  historyRemoved?: number;
}

/** A job's last run whatever its outcome, and its last successful one. */
export interface LastRuns {
  lastRun?: JobRunDocument;
  lastSuccess?: JobRunDocument;
}

export interface JobRunRepository {
  /** Records that a run started; returns its id. */
  start(run: RunStart): Promise<mongoose.Types.ObjectId>;
  finish(id: mongoose.Types.ObjectId, end: RunEnd): Promise<void>;
  /** Two indexed single-document reads. */
  lastRuns(job: string): Promise<LastRuns>;
}

export function createJobRunRepository(connection: mongoose.Connection): JobRunRepository {
  const model = getJobRunModel(connection);
  const collection = model.collection as unknown as mongoose.mongo.Collection<JobRunDocument>;
  return {
    async start(run) {
      const doc: JobRunDocument = {
        job: run.job,
        trigger: run.trigger,
        instance: run.instance,
        started_at: run.startedAt,
        removed: 0,
        batches: 0,
      };
      if (run.queueJobId !== undefined) doc.queue_job_id = run.queueJobId;
      const _id = new mongoose.Types.ObjectId();
      await boundedMongo(collection.insertOne({ ...doc, _id }));
      return _id;
    },
    async finish(id, end) {
      const set: Partial<JobRunDocument> = {
        finished_at: end.finishedAt,
        outcome: end.outcome,
        removed: end.removed,
        batches: end.batches,
      };
      if (end.error !== undefined) set.error = end.error;
      if (end.historyRemoved !== undefined) set.history_removed = end.historyRemoved;
      await boundedMongo(collection.updateOne({ _id: id }, { $set: set }));
    },
    async lastRuns(job) {
      const [lastRun, lastSuccess] = await Promise.all([
        model.findOne({ job }).sort({ started_at: -1 }).lean<JobRunDocument>().exec(),
        model.findOne({ job, outcome: 'ok' }).sort({ finished_at: -1 }).lean<JobRunDocument>().exec(),
      ]);
      return { lastRun: lastRun ?? undefined, lastSuccess: lastSuccess ?? undefined };
    },
  };
}
