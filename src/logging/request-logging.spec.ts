import { logsRequests } from './request-logging.js';

describe(logsRequests.name, () => {
  it('should log requests at info and below, where pino-http writes its line', () => {
    expect(['trace', 'debug', 'info'].map((level) => logsRequests(level as 'info'))).toEqual([true, true, true]);
  });

  it('should not at warn and above, nor when silent', () => {
    expect(['warn', 'error', 'fatal', 'silent'].map((level) => logsRequests(level as 'warn'))).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});
