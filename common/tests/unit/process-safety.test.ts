import { EventEmitter } from 'node:events';
import { createShutdown, stopOnFatalErrors, type ShutdownStep } from '@analytics/common';

function recordingShutdown(steps: ShutdownStep[] = []) {
  const exits: number[] = [];
  const shutdown = createShutdown({ exit: (code) => exits.push(code), deadlineMs: 5000 });
  for (const step of steps) shutdown.add(step);
  return { shutdown, exits };
}

describe('createShutdown exit codes', () => {
  it('when shut down by a signal alone, then it exits 0', async () => {
    const { shutdown, exits } = recordingShutdown();
    await shutdown.shutdown('SIGTERM');
    expect(exits).toEqual([0]);
  });

  it('when a fatal error asks for exit 1 while a signal shutdown runs, then the steps run once and it exits 1', async () => {
    let release!: () => void;
    const closes: string[] = [];
    const { shutdown, exits } = recordingShutdown([
      {
        name: 'slow',
        close: () => new Promise<void>((resolve) => (release = resolve)).then(() => closes.push('slow')),
      },
    ]);
    const first = shutdown.shutdown('SIGTERM');
    const second = shutdown.shutdown('unhandledRejection', 1);
    release();
    await Promise.all([first, second]);
    expect(closes).toEqual(['slow']);
    expect(exits).toEqual([1]);
  });
});

describe('stopOnFatalErrors', () => {
  it.each(['uncaughtException', 'unhandledRejection'] as const)(
    'when %s is emitted, then the shutdown runs and exits 1',
    async (event) => {
      const closes: string[] = [];
      const { shutdown, exits } = recordingShutdown([{ name: 'http', close: () => closes.push('http') }]);
      const target = new EventEmitter();
      stopOnFatalErrors(shutdown, target);
      target.emit(event, new Error('boom'));
      await shutdown.shutdown('already running');
      expect(closes).toEqual(['http']);
      expect(exits).toEqual([1]);
    },
  );
});
