/**
 * Loads a view's data and keeps it fresh: again every `refreshMs` while the tab is visible,
 * and at once when `key` (the view's filters and page) changes. The last answer stays on
 * screen while the next loads, so a refresh changes only what changed (no flicker, no
 * spinner over the table). A 401 ends the session; a 503 of the site database is leased mode.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../shared/api.ts';
import { problem } from '../shared/messages.ts';
import { useConsole } from './context.ts';

export const REFRESH_MS = 10_000;

export interface Data<T> {
  readonly data: T | undefined;
  /** A sentence, when the last load failed. */
  readonly error: string | undefined;
  /** Loading after a change of `key` (not a background refresh). */
  readonly loading: boolean;
  /** The site database does not answer: this view waits for it. */
  readonly waiting: boolean;
  readonly updatedAt: Date | undefined;
  /** Loads again now (after an action). */
  readonly reload: () => Promise<void>;
}

export function isLeased(e: unknown): boolean {
  return e instanceof ApiError && e.status === 503 && e.code === 'site_database_unavailable';
}

export function useData<T>(
  key: string,
  load: (signal: AbortSignal) => Promise<T>,
  options: { refreshMs?: number; needsDatabase?: boolean } = {},
): Data<T> {
  const shell = useConsole();
  const [state, setState] = useState<Omit<Data<T>, 'reload'>>({
    data: undefined,
    error: undefined,
    loading: true,
    waiting: false,
    updatedAt: undefined,
  });
  const loader = useRef(load);
  loader.current = load;
  const inFlight = useRef<AbortController | undefined>(undefined);
  const needsDatabase = options.needsDatabase ?? true;

  const run = useCallback(async () => {
    inFlight.current?.abort();
    const controller = new AbortController();
    inFlight.current = controller;
    try {
      const data = await loader.current(controller.signal);
      if (controller.signal.aborted) return;
      if (needsDatabase) shell.databaseAnswers(true);
      setState({ data, error: undefined, loading: false, waiting: false, updatedAt: new Date() });
    } catch (e: unknown) {
      if (controller.signal.aborted || (e as Error).name === 'AbortError') return;
      if (e instanceof ApiError && e.status === 401) {
        shell.sessionEnded();
        return;
      }
      const waiting = isLeased(e);
      if (waiting) shell.databaseAnswers(false);
      setState((s) => ({ ...s, loading: false, waiting, error: waiting ? undefined : problem(e) }));
    }
  }, [shell, needsDatabase]);

  useEffect(() => {
    setState((s) => ({ ...s, loading: true }));
    run();
    const every = options.refreshMs ?? REFRESH_MS;
    if (every <= 0) return () => inFlight.current?.abort();
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') run();
    }, every);
    return () => {
      clearInterval(timer);
      inFlight.current?.abort();
    };
  }, [key, run, options.refreshMs]);

  return { ...state, reload: run };
}
