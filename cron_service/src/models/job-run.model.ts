import mongoose from 'mongoose';

export type JobTrigger = 'schedule' | 'manual';
export type JobOutcome = 'ok' | 'error';

/**
 * One run of a cron job: written when it starts, completed when it ends. A run with no `finished_at` is
 * still going, or its process died; /health reads the last successful run of each job from here.
 */
export interface JobRunDocument {
  job: string;
  trigger: JobTrigger;
  /** The BullMQ job of a scheduled run (`repeat:<job>:<slot ms>`): one id per tick of the schedule. */
  queue_job_id?: string;
  /** Which cron process ran it (host, pid and a random tag, so two in one process differ too). */
  instance: string;
  started_at: Date;
  finished_at?: Date;
  outcome?: JobOutcome;
  error?: string;
  /** Documents the job deleted (raw events, for retention). */
  removed: number;
  /** Delete batches it took. */
  batches: number;
  /** Old job_runs documents the retention job trimmed. */
  history_removed?: number;
}

export const JOB_RUN_COLLECTION = 'job_runs';

export const jobRunSchema = new mongoose.Schema<JobRunDocument>(
  {
    job: { type: String, required: true },
    trigger: { type: String, required: true, enum: ['schedule', 'manual'] },
    queue_job_id: String,
    instance: { type: String, required: true },
    started_at: { type: Date, required: true },
    finished_at: Date,
    outcome: { type: String, enum: ['ok', 'error'] },
    error: String,
    removed: { type: Number, required: true },
    batches: { type: Number, required: true },
    history_removed: Number,
  },
  { collection: JOB_RUN_COLLECTION, versionKey: false },
);
// /health: the last successful run of a job, and its last run whatever the outcome.
jobRunSchema.index({ job: 1, outcome: 1, finished_at: -1 });
jobRunSchema.index({ job: 1, started_at: -1 });
// The retention job trims old runs by age.
jobRunSchema.index({ started_at: 1 });

export type JobRunModel = mongoose.Model<JobRunDocument>;

export function getJobRunModel(connection: mongoose.Connection): JobRunModel {
  return (
    (connection.models.JobRun as JobRunModel | undefined) ??
    connection.model<JobRunDocument>('JobRun', jobRunSchema)
  );
}
