import type mongoose from 'mongoose';
import { getMetricWriteModel, type MetricWriteDocument } from '@analytics/common';
import { createManifestRepository, type ManifestRepository } from './write-manifest.repository';

export type MetricWriteRepository = ManifestRepository<MetricWriteDocument>;

export function createMetricWriteRepository(connection: mongoose.Connection): MetricWriteRepository {
  return createManifestRepository(
    getMetricWriteModel(connection).collection as unknown as mongoose.mongo.Collection<MetricWriteDocument>,
    'metric write',
  );
}
