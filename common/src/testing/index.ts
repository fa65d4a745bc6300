export * from './child-server';
export * from './free-port';
export * from './mongo-engine';
export * from './redis-server';
export * from './test-env';
export * from './wait-for';
export * from './site-fixtures';
export * from './service-process';
