/**
 * The site configuration as YAML in an editor. Check runs the dry run and lists the changes it
 * would make, or every problem with its path, marked beside the line it names (a button in
 * the list moves the cursor there). Apply applies it. Export downloads what the site holds.
 * Secrets are never shown: the broker sends "(kept)" for them, which applies back unchanged.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { adminApi, type ConfigIssue, configIssues } from '../shared/admin-api.ts';
import { ApiError } from '../shared/api.ts';
import { problem } from '../shared/messages.ts';
import { ViewHeader } from './components.tsx';
import { useConsole } from './context.ts';
import { isLeased } from './use-data.ts';

type Outcome =
  | { readonly kind: 'changes'; readonly applied: boolean; readonly changes: readonly string[] }
  | { readonly kind: 'issues'; readonly issues: readonly ConfigIssue[] }
  | { readonly kind: 'error'; readonly text: string };

/** The text offsets of line `n` (1-based). */
function lineSpan(text: string, n: number): [number, number] {
  let start = 0;
  for (let i = 1; i < n; i++) {
    const next = text.indexOf('\n', start);
    if (next < 0) return [text.length, text.length];
    start = next + 1;
  }
  const end = text.indexOf('\n', start);
  return [start, end < 0 ? text.length : end];
}

function Gutter(props: {
  readonly lines: number;
  readonly marked: ReadonlySet<number>;
  readonly top: number;
}) {
  const ref = useRef<HTMLPreElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.scrollTop = props.top;
  }, [props.top]);
  const rows = [];
  for (let i = 1; i <= props.lines; i++)
    rows.push(
      <span key={i} class={props.marked.has(i) ? 'marked' : undefined}>
        {props.marked.has(i) ? `! ${i}` : i}
        {'\n'}
      </span>,
    );
  return (
    <pre class="gutter" aria-hidden="true" ref={ref}>
      {rows}
    </pre>
  );
}

function OutcomeView(props: { readonly outcome: Outcome; readonly goTo: (line: number) => void }) {
  const { outcome } = props;
  if (outcome.kind === 'error')
    return (
      <div class="banner error" role="alert">
        {outcome.text}
      </div>
    );
  if (outcome.kind === 'issues')
    return (
      <div class="banner error" role="alert" id="config-issues">
        <strong>
          {outcome.issues.length === 1
            ? 'The configuration has a problem; nothing was changed.'
            : `The configuration has ${outcome.issues.length} problems; nothing was changed.`}
        </strong>
        <ul class="issues">
          {outcome.issues.map((i) => (
            <li key={`${i.path}:${i.message}`}>
              {i.line !== null && (
                <button type="button" class="linklike" onClick={() => props.goTo(i.line!)}>
                  Line {i.line}
                </button>
              )}{' '}
              <code>{i.path}</code>: {i.message}
            </li>
          ))}
        </ul>
      </div>
    );
  const n = outcome.changes.length;
  return (
    <div class={`banner ${outcome.applied ? 'ok' : 'info'}`} role="status" id="config-issues">
      <strong>
        {n === 0
          ? 'No changes: the site already matches this configuration.'
          : outcome.applied
            ? `Applied: ${n} change${n === 1 ? '' : 's'}.`
            : `The check passed. Applying would make ${n} change${n === 1 ? '' : 's'}:`}
      </strong>
      {n > 0 && (
        <ul class="changes">
          {outcome.changes.map((c) => (
            <li key={c}>{c}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function ConfigurationView() {
  const shell = useConsole();
  const [text, setText] = useState<string | undefined>();
  const [loadError, setLoadError] = useState<string | undefined>();
  const [busy, setBusy] = useState<'check' | 'apply' | 'export' | undefined>();
  const [outcome, setOutcome] = useState<Outcome | undefined>();
  const [scrollTop, setScrollTop] = useState(0);
  const editor = useRef<HTMLTextAreaElement>(null);

  const load = async () => {
    setLoadError(undefined);
    try {
      setText(await adminApi.exportConfig());
      shell.databaseAnswers(true);
    } catch (e: unknown) {
      if (e instanceof ApiError && e.status === 401) shell.sessionEnded();
      else if (isLeased(e)) {
        shell.databaseAnswers(false);
        setLoadError(
          'The configuration lives in the site database, which does not answer right now. It shows again when it does.',
        );
      } else setLoadError(problem(e));
    }
  };
  useEffect(() => {
    load();
  }, []);

  const run = async (dryRun: boolean) => {
    if (text === undefined) return;
    setBusy(dryRun ? 'check' : 'apply');
    setOutcome(undefined);
    try {
      const answer = await adminApi.applyConfig(text, dryRun);
      setOutcome({ kind: 'changes', applied: !dryRun, changes: answer.changes });
      shell.announce(
        dryRun
          ? `Check passed: ${answer.changes.length} change${answer.changes.length === 1 ? '' : 's'} would be made.`
          : `Applied ${answer.changes.length} change${answer.changes.length === 1 ? '' : 's'}.`,
      );
      if (!dryRun && answer.changed) setText(await adminApi.exportConfig());
    } catch (e: unknown) {
      const issues = configIssues(e);
      if (issues) setOutcome({ kind: 'issues', issues });
      else if (e instanceof ApiError && e.status === 401) shell.sessionEnded();
      else if (isLeased(e)) {
        shell.databaseAnswers(false);
        setOutcome({
          kind: 'error',
          text: 'Changes wait for the site database, which does not answer right now.',
        });
      } else setOutcome({ kind: 'error', text: problem(e) });
    } finally {
      setBusy(undefined);
    }
  };

  const exportFile = async () => {
    setBusy('export');
    try {
      const yaml = await adminApi.exportConfig();
      const url = URL.createObjectURL(new Blob([yaml], { type: 'application/yaml' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = 'deskbroker-site.yaml';
      link.hidden = true;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 30_000);
      shell.announce('The site configuration has downloaded.');
    } catch (e: unknown) {
      setOutcome({ kind: 'error', text: problem(e) });
    } finally {
      setBusy(undefined);
    }
  };

  const goTo = (line: number) => {
    const area = editor.current;
    if (!area || text === undefined) return;
    const [start, end] = lineSpan(text, line);
    area.focus();
    area.setSelectionRange(start, end);
    const lineHeight = Number.parseFloat(getComputedStyle(area).lineHeight) || 20;
    area.scrollTop = Math.max(0, (line - 3) * lineHeight);
    setScrollTop(area.scrollTop);
  };

  const marked = new Set(
    outcome?.kind === 'issues'
      ? outcome.issues.flatMap((i) => (i.line === null ? [] : [i.line]))
      : [],
  );
  return (
    <>
      <ViewHeader title="Configuration">
        <button type="button" class="button quiet" onClick={load} disabled={busy !== undefined}>
          Reload from the broker
        </button>
        <button
          type="button"
          class="button secondary"
          onClick={exportFile}
          disabled={busy !== undefined}
        >
          {busy === 'export' ? 'Exporting…' : 'Export'}
        </button>
      </ViewHeader>
      {loadError && (
        <div class="banner error" role="alert">
          {loadError}
        </div>
      )}
      <p id="config-help" class="muted">
        The whole site as YAML, as <code>deskbroker apply</code> reads it: entries missing from the
        text are removed. Secrets show as <code>(kept)</code>; leave them so to keep the stored
        ones, or type a new value. Check first: it changes nothing.
      </p>
      {outcome && <OutcomeView outcome={outcome} goTo={goTo} />}
      {text !== undefined && (
        <>
          <div class="editor">
            <Gutter lines={text.split('\n').length} marked={marked} top={scrollTop} />
            <label for="config-text" class="sr-only">
              Site configuration (YAML)
            </label>
            <textarea
              id="config-text"
              ref={editor}
              value={text}
              wrap="off"
              spellcheck={false}
              autocapitalize="none"
              aria-describedby={outcome ? 'config-help config-issues' : 'config-help'}
              aria-invalid={outcome?.kind === 'issues' ? 'true' : undefined}
              onInput={(e) => {
                setText(e.currentTarget.value);
              }}
              onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
            />
          </div>
          <div class="editor-actions">
            <button
              type="button"
              class="button secondary"
              onClick={() => run(true)}
              disabled={busy !== undefined}
            >
              {busy === 'check' ? 'Checking…' : 'Check'}
            </button>
            <button
              type="button"
              class="button"
              onClick={() => run(false)}
              disabled={busy !== undefined}
            >
              {busy === 'apply' ? 'Applying…' : 'Apply'}
            </button>
          </div>
        </>
      )}
    </>
  );
}
