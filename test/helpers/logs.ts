/**
 * A broker logger whose lines a test can read: the real Powertools Logger, writing its JSON
 * lines into an array instead of stdout.
 */
import { createLogger, type Logger } from '../../functions/adapters/logger.ts';

export interface CapturedLogs {
  readonly logger: Logger;
  /** Every line logged so far, parsed. */
  readonly lines: Record<string, unknown>[];
  /** Every line as its JSON text, joined: for "does the log mention X". */
  text(): string;
}

export function captureLogs(level: 'DEBUG' | 'INFO' | 'WARN' = 'INFO'): CapturedLogs {
  const logger = createLogger('deskbroker-test', level);
  const lines: Record<string, unknown>[] = [];
  const write = (line: string) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
  };
  // Powertools prints through its own Console instance; replace it with one that keeps the lines.
  (logger as unknown as { console: Record<string, (line: string) => void> }).console = {
    log: write,
    info: write,
    warn: write,
    error: write,
    debug: write,
    trace: write,
  };
  return { logger, lines, text: () => lines.map((l) => JSON.stringify(l)).join('\n') };
}
