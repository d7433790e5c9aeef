import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * One JSON line per event on stdout. Call-related lines carry `uniqueid`: use `callLogger(log, uniqueid)`
 * so every line of a call can be found by it.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'dialplan-companion' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Secrets must never reach a log line, even when an object carrying them is logged.
      redact: { paths: ['password', '*.password', 'secret', '*.secret', 'authorization', '*.authorization'], censor: '[redacted]' },
    },
    destination,
  );
}

export function callLogger(log: Logger, uniqueid: string, extra: Record<string, unknown> = {}): Logger {
  return log.child({ uniqueid, ...extra });
}
