/**
 * Structured JSON logs through Powertools Logger: one logger per program, made once.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export type { Logger };

/** A logger for `service`; `level` SILENT turns logging off (tests). */
export function createLogger(
  service: string,
  level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT' = 'INFO',
): Logger {
  return new Logger({ serviceName: service, logLevel: level });
}
