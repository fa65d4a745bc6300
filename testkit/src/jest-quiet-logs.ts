import { configureLogger, logger, LOG_LEVELS, type LogLevel } from '@analytics/common';

// Tests log nothing unless TEST_LOG_LEVEL asks for a level (expected failures would drown the report).
const wanted = process.env.TEST_LOG_LEVEL as LogLevel | undefined;
if (wanted && LOG_LEVELS.includes(wanted)) configureLogger({ service: 'test', level: wanted });
else logger.silent = true;
