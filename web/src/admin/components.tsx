/** Small pieces every view of the console uses: times, headers, states, paging, actions. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../shared/api.ts';
import { problem } from '../shared/messages.ts';
import { useFocusHeading } from '../shared/use-focus-heading.ts';
import { useConsole } from './context.ts';
import { href, navigate, type ViewPath } from './router.ts';
import { type Data, isLeased } from './use-data.ts';

const clock = (d: Date) =>
  d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dayAndTime = (d: Date) => d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "3 minutes ago", "in 2 hours" for a time near now. */
export function fromNow(iso: string, now = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return relative.format(seconds, 'second');
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  return relative.format(Math.round(seconds / 86_400), 'day');
}

/** A time: how long ago (or until), the full date and time on hover and for screen readers. */
export function When(props: { readonly iso: string | null | undefined; readonly exact?: boolean }) {
  if (!props.iso) return <span class="muted">—</span>;
  const d = new Date(props.iso);
  return (
    <time dateTime={props.iso} title={dayAndTime(d)}>
      {props.exact ? dayAndTime(d) : fromNow(props.iso)}
    </time>
  );
}

/** A view's heading (focused when the view opens), when it was updated, and Refresh. */
export function ViewHeader(props: {
  readonly title: string;
  readonly data?: Data<unknown>;
  readonly children?: ComponentChildren;
}) {
  const heading = useFocusHeading<HTMLHeadingElement>(props.title);
  return (
    <div class="toolbar">
      <h1 ref={heading} tabIndex={-1}>
        {props.title}
      </h1>
      <div class="toolbar-end">
        {props.children}
        {props.data && (
          <>
            <span class="muted updated">
              {props.data.updatedAt ? `Updated ${clock(props.data.updatedAt)}` : 'Loading…'}
            </span>
            <button type="button" class="button quiet" onClick={() => props.data?.reload()}>
              Refresh
            </button>
          </>
        )}
      </div>
    </div>
  );
}

/** What a view shows instead of (or above) its data: the error, or leased mode. */
export function DataState(props: { readonly data: Data<unknown>; readonly what: string }) {
  const { data } = props;
  if (data.waiting)
    return (
      <p class="banner info" role="status">
        {`The ${props.what} come from the site database, which does not answer right now. They show again when it does.`}
      </p>
    );
  if (data.error)
    return (
      <div class="banner error" role="alert">
        {data.error}
      </div>
    );
  if (!data.data) return <p class="muted">Loading…</p>;
  return null;
}

/** Links to the first and the next page of a list; the cursor lives in the URL. */
export function Pager(props: {
  readonly view: ViewPath;
  readonly params: URLSearchParams;
  readonly next: string | null | undefined;
  readonly cursorParam?: string;
  readonly label: string;
}) {
  const name = props.cursorParam ?? 'cursor';
  const base = Object.fromEntries(props.params);
  const onFirst = !props.params.get(name);
  if (onFirst && !props.next) return null;
  return (
    <nav class="pager" aria-label={`Pages of ${props.label}`}>
      {!onFirst && (
        <a class="button quiet" href={href(props.view, { ...base, [name]: undefined })}>
          First page
        </a>
      )}
      {props.next && (
        <a class="button secondary" href={href(props.view, { ...base, [name]: props.next })}>
          Next page
        </a>
      )}
    </nav>
  );
}

/**
 * A button for an action on the server: busy while it runs, the outcome announced, an error
 * shown as a sentence. With `confirm`, a first press asks, a second does it.
 */
export function ActionButton(props: {
  readonly label: string;
  readonly busyLabel: string;
  readonly run: () => Promise<string>;
  readonly confirm?: string;
  readonly tone?: 'danger' | 'secondary' | 'quiet';
  readonly onDone?: () => void;
}) {
  const shell = useConsole();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);

  const go = async () => {
    setAsking(false);
    setBusy(true);
    setError(undefined);
    try {
      shell.announce(await props.run());
      props.onDone?.();
    } catch (e: unknown) {
      if (e instanceof ApiError && e.status === 401) shell.sessionEnded();
      else if (isLeased(e)) {
        shell.databaseAnswers(false);
        setError('That waits for the site database, which does not answer right now.');
      } else setError(problem(e));
    } finally {
      setBusy(false);
    }
  };
  const cls = `button ${props.tone ?? 'secondary'}`;
  return (
    <span class="action">
      {asking ? (
        <fieldset class="confirm">
          <legend>{props.confirm}</legend>
          <button type="button" class={`button danger`} ref={yes} onClick={go}>
            Yes, {props.label.toLowerCase()}
          </button>
          <button type="button" class="button quiet" onClick={() => setAsking(false)}>
            Cancel
          </button>
        </fieldset>
      ) : (
        <button
          type="button"
          class={cls}
          disabled={busy}
          onClick={() => (props.confirm ? setAsking(true) : go())}
        >
          {busy ? props.busyLabel : props.label}
        </button>
      )}
      {error && (
        <span class="inline-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}

/**
 * A labelled field of a filter form. `kind`: a user name is typed as is (no capitals, no
 * spelling), a number takes digits, a time is a local date and time.
 */
export function FilterField(props: {
  readonly id: string;
  readonly name: string;
  readonly label: string;
  readonly value: string | undefined;
  readonly kind?: 'text' | 'user' | 'number' | 'time';
  readonly list?: string;
  readonly placeholder?: string;
  readonly children?: ComponentChildren;
}) {
  const { kind = 'text' } = props;
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        name={props.name}
        defaultValue={props.value ?? ''}
        list={props.list}
        placeholder={props.placeholder}
        {...(kind === 'user' ? { autocapitalize: 'none', spellcheck: false } : {})}
        {...(kind === 'number' ? { inputMode: 'numeric', pattern: '[0-9]*' } : {})}
        {...(kind === 'time' ? { type: 'datetime-local' } : {})}
      />
      {props.children}
    </div>
  );
}

/** A labelled choice of a filter form: "Any" first (unless `any` is false), then `values`. */
export function FilterChoice(props: {
  readonly id: string;
  readonly name: string;
  readonly label: string;
  readonly value: string | undefined;
  readonly values: readonly string[];
  readonly any?: boolean;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.name} defaultValue={props.value ?? ''}>
        {props.any !== false && <option value="">Any</option>}
        {props.values.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    </div>
  );
}

/** A filter form: its fields go into the URL (the page starts again at the first). */
export function Filters(props: {
  readonly view: ViewPath;
  readonly label: string;
  readonly children: ComponentChildren;
  readonly keep?: Record<string, string | undefined>;
  /** Turns the fields' values into URL parameters (times into ISO 8601, say). */
  readonly transform?: (
    params: Record<string, string | undefined>,
  ) => Record<string, string | undefined>;
}) {
  const submit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    let params: Record<string, string | undefined> = { ...props.keep };
    for (const [k, v] of form) params[k] = String(v).trim() || undefined;
    if (props.transform) params = props.transform(params);
    navigate(href(props.view, params));
  };
  return (
    <search aria-label={props.label}>
      <form class="filters" onSubmit={submit}>
        {props.children}
        <div class="filter-actions">
          <button type="submit" class="button">
            Apply filters
          </button>
          <a class="button quiet" href={href(props.view, props.keep)}>
            Clear
          </a>
        </div>
      </form>
    </search>
  );
}
