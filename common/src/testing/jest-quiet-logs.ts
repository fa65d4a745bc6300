import { configureLogger, LOG_LEVELS, type LogLevel } from '../logger';

// Tests log errors only, unless TEST_LOG_LEVEL asks for more.
const wanted = process.env.TEST_LOG_LEVEL as LogLevel | undefined;
configureLogger({ service: 'test', level: wanted && LOG_LEVELS.includes(wanted) ? wanted : 'error' });
