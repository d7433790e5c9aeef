import type { Logger } from '../log';

/**
 * A catch handler for cleanup steps: "already gone" (404) is the usual outcome of a race at hangup and is
 * not worth a word; anything else is logged with what was being cleaned.
 */
export function ignoreGone(log: Logger, what: string): (e: unknown) => void {
  return (e) => {
    const err = e as { notFound?: boolean; message?: string } | undefined;
    if (!err?.notFound) log.warn({ err: err?.message ?? String(e), what }, 'cleanup step failed');
  };
}
