/**
 * The clipboard between this computer and the desktop: text the desktop copies appears in the
 * box (and on this computer's clipboard where the browser allows it); text typed or pasted in
 * the box goes to the desktop's clipboard with Send to desktop.
 */
export function ClipboardPanel(props: {
  readonly text: string;
  readonly onText: (text: string) => void;
  readonly onSend: (text: string) => void;
  readonly disabled: boolean;
}) {
  return (
    <details class="clipboard">
      <summary class="button quiet">Clipboard</summary>
      <div class="clipboard-panel card">
        <label for="clipboard-text">Clipboard text</label>
        <textarea
          id="clipboard-text"
          rows={4}
          value={props.text}
          onInput={(e) => props.onText(e.currentTarget.value)}
        />
        <p class="muted">Text copied on the desktop appears here.</p>
        <button
          type="button"
          class="button"
          disabled={props.disabled || props.text === ''}
          onClick={() => props.onSend(props.text)}
        >
          Send to desktop
        </button>
      </div>
    </details>
  );
}
