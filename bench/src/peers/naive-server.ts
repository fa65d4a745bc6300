import { Queue } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import Joi from 'joi';
import { NAIVE_QUEUE } from '../fixtures';

/**
 * The naive peer, as most tutorials and seed projects write it: Express, express.json(), a Joi schema,
 * `await queue.add` per request, 202. No auth, no rate limit, no request id, no logging.
 * With NAIVE_ENQUEUE=off it skips the enqueue: what Express and Joi alone cost, the part of the naive
 * peer that an Express + Joi service pays too however it writes to Redis.
 */
const ENQUEUE = process.env.NAIVE_ENQUEUE !== 'off';

const eventSchema = Joi.object({
  site_id: Joi.string().required(),
  event_type: Joi.string().required(),
  path: Joi.string(),
  user_id: Joi.string(),
  timestamp: Joi.date().iso(),
  referrer: Joi.string().allow(''),
  props: Joi.object(),
});

const connection = new Redis(process.env.REDIS_URL ?? '', { maxRetriesPerRequest: null });
const queue = new Queue(NAIVE_QUEUE, { connection });

const app = express();
app.use(express.json());
app.post('/event', async (req, res) => {
  const { error, value } = eventSchema.validate(req.body);
  if (error) {
    res.status(400).json({ error: error.message });
    return;
  }
  if (ENQUEUE) await queue.add('event', value);
  res.status(202).json({ success: true });
});

const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'));

function stop(): void {
  server.close();
  server.closeAllConnections();
  void queue
    .close()
    .then(() => connection.quit())
    .finally(() => process.exit(0));
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
