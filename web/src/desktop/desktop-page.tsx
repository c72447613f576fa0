/**
 * The HTML5 desktop page, `/desktop/<desktopId>?protocol=vnc|rdp`: a desktop in this browser,
 * full-window. It asks the broker for a gateway WebSocket and a one-time ticket (connect with
 * `display: "browser"`), then shows the desktop with noVNC (VNC) or IronRDP (RDP), with a bar
 * for Ctrl-Alt-Del, the clipboard both ways, fitting to the window, full screen and
 * disconnecting, and says in a sentence why a session ended. The address is the bookmark.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../shared/api.ts';
import { problem, sessionEnded } from '../shared/messages.ts';
import { portalApi } from '../shared/portal-api.ts';
import { ClipboardPanel } from './clipboard-panel.tsx';
import { endMessage } from './close-messages.ts';
import type { DesktopSession, SessionEvents } from './session.ts';

type Protocol = 'vnc' | 'rdp';

type View =
  | { readonly kind: 'starting' }
  | { readonly kind: 'signedOut' }
  | { readonly kind: 'credentials' }
  | { readonly kind: 'connecting' }
  | { readonly kind: 'connected' }
  | { readonly kind: 'password' }
  | { readonly kind: 'ended'; readonly message: string; readonly tone: 'info' | 'error' };

/** The desktop and protocol the address names; undefined when it names none. */
export function target(location: Location): { desktopId: number; protocol?: Protocol } | undefined {
  const id = /^\/desktop\/(\d{1,10})\/?$/.exec(location.pathname)?.[1];
  if (!id) return undefined;
  const protocol = new URLSearchParams(location.search).get('protocol');
  return {
    desktopId: Number(id),
    ...(protocol === 'vnc' || protocol === 'rdp' ? { protocol } : {}),
  };
}

export function DesktopPage() {
  const wanted = target(window.location);
  const [view, setView] = useState<View>({ kind: 'starting' });
  const [name, setName] = useState<string>(wanted ? `Desktop ${wanted.desktopId}` : 'Desktop');
  const [user, setUser] = useState('');
  const [protocol, setProtocol] = useState<Protocol | undefined>(wanted?.protocol);
  const [scaled, setScaled] = useState(true);
  const [clipboard, setClipboard] = useState('');
  const [announcement, setAnnouncement] = useState('');
  const screen = useRef<HTMLElement>(null);
  const session = useRef<DesktopSession | undefined>(undefined);
  const passwordAnswer = useRef<((password: string) => void) | undefined>(undefined);

  useEffect(() => {
    document.title = `${name} · deskbroker`;
  }, [name]);

  useEffect(() => {
    if (!wanted) return;
    portalApi
      .session()
      .then((s) => {
        setUser(s.user.name);
        // RDP asks for the desktop's own sign-in first; VNC starts at once.
        if (wanted.protocol === 'rdp') setView({ kind: 'credentials' });
        else void start();
      })
      .catch(() => setView({ kind: 'signedOut' }));
  }, []);

  const events: SessionEvents = {
    onConnected: () => {
      setView({ kind: 'connected' });
      setAnnouncement('The desktop is connected.');
    },
    onClipboard: (text) => {
      setClipboard(text);
      setAnnouncement('Text copied on the desktop is in the clipboard box.');
      navigator.clipboard?.writeText(text).catch(() => {});
    },
    onEnded: (end) => {
      session.current = undefined;
      setView({ kind: 'ended', message: endMessage(end), tone: end.byUser ? 'info' : 'error' });
    },
    onPasswordRequired: (answer) => {
      passwordAnswer.current = answer;
      setView({ kind: 'password' });
    },
  };

  /** Asks the broker for a ticket, then opens the desktop with it. */
  async function start(credentials?: { username: string; password: string }): Promise<void> {
    if (!wanted || !screen.current) return;
    setView({ kind: 'connecting' });
    let connection: Awaited<ReturnType<typeof portalApi.connectInBrowser>>;
    try {
      connection = await portalApi.connectInBrowser(wanted.desktopId, wanted.protocol);
    } catch (e: unknown) {
      if (sessionEnded(e)) return setView({ kind: 'signedOut' });
      return setView({ kind: 'ended', message: problem(e), tone: 'error' });
    }
    setName(connection.name);
    setProtocol(connection.protocol);
    const host = screen.current;
    host.replaceChildren();
    try {
      if (connection.protocol === 'rdp') {
        const canvas = document.createElement('canvas');
        canvas.className = scaled ? 'rdp scaled' : 'rdp';
        canvas.setAttribute('aria-label', `Screen of ${connection.name}`);
        host.append(canvas);
        const { openRdp } = await import('./rdp-session.ts');
        session.current = await openRdp(
          canvas,
          connection,
          credentials ?? { username: user, password: '' },
          events,
        );
      } else {
        const { openVnc } = await import('./vnc-session.ts');
        session.current = await openVnc(host, connection, events);
      }
      session.current.setScaled(scaled);
    } catch (e: unknown) {
      // The session reported its own end (a refused ticket); anything else is the page's.
      if (!(e instanceof ApiError) && session.current === undefined) {
        setView((v) =>
          v.kind === 'ended' ? v : { kind: 'ended', message: problem(e), tone: 'error' },
        );
      }
    }
  }

  const connected = view.kind === 'connected';
  const toggleScale = () => {
    setScaled(!scaled);
    session.current?.setScaled(!scaled);
  };
  const fullScreen = () => {
    void document.documentElement.requestFullscreen?.().catch(() => {});
    session.current?.focus();
  };

  if (!wanted) {
    return (
      <main id="main" class="page narrow">
        <h1>No desktop here</h1>
        <p>
          This address names no desktop. <a href="/">Go to your desktops</a> and choose Open in
          browser.
        </p>
      </main>
    );
  }

  return (
    <div class="desktop-shell">
      <header class="desktop-bar">
        <a class="back" href="/">
          <span aria-hidden="true">←</span> Your desktops
        </a>
        <h1>{name}</h1>
        <span class={`badge ${connected ? 'ok' : 'accent'}`}>
          {connected ? 'Connected' : view.kind === 'connecting' ? 'Connecting…' : 'Not connected'}
        </span>
        <div class="desktop-actions" role="toolbar" aria-label="Desktop">
          <button
            type="button"
            class="button quiet"
            disabled={!connected}
            onClick={() => {
              session.current?.sendCtrlAltDel();
              session.current?.focus();
            }}
          >
            Ctrl-Alt-Del
          </button>
          <ClipboardPanel
            text={clipboard}
            onText={setClipboard}
            disabled={!connected}
            onSend={(text) => {
              session.current?.sendClipboard(text);
              setAnnouncement('The text was sent to the desktop’s clipboard.');
            }}
          />
          <button
            type="button"
            class="button quiet"
            aria-pressed={scaled ? 'true' : 'false'}
            onClick={toggleScale}
          >
            Fit to window
          </button>
          <button type="button" class="button quiet" onClick={fullScreen}>
            Full screen
          </button>
          <button
            type="button"
            class="button secondary"
            disabled={!connected}
            onClick={() => session.current?.disconnect()}
          >
            Disconnect
          </button>
        </div>
      </header>
      <main id="main" class="desktop-main">
        {view.kind === 'signedOut' && (
          <div class="banner info desktop-message" role="alert">
            Sign in to open this desktop. <a href="/">Go to the sign-in page</a>, then choose Open
            in browser again.
          </div>
        )}
        {view.kind === 'ended' && (
          <div class={`banner ${view.tone} desktop-message`} role="alert">
            <p>{view.message}</p>
            <p class="actions">
              <button
                type="button"
                class="button"
                onClick={() => (protocol === 'rdp' ? setView({ kind: 'credentials' }) : start())}
              >
                Reconnect
              </button>
              <a class="button secondary" href="/">
                Back to your desktops
              </a>
            </p>
          </div>
        )}
        {view.kind === 'credentials' && (
          <CredentialsForm user={user} name={name} onSubmit={(c) => start(c)} />
        )}
        {view.kind === 'password' && (
          <PasswordForm
            name={name}
            onSubmit={(password) => {
              setView({ kind: 'connecting' });
              passwordAnswer.current?.(password);
            }}
          />
        )}
        <section
          ref={screen}
          class={`screen ${connected ? 'live' : ''}`}
          aria-label={`Screen of ${name}`}
          aria-busy={view.kind === 'connecting' ? 'true' : undefined}
        />
      </main>
      <div class="sr-only" role="status" aria-live="polite">
        {announcement}
      </div>
    </div>
  );
}

/** RDP: the desktop's own user name and password (sent to the desktop, never to the broker). */
function CredentialsForm(props: {
  readonly user: string;
  readonly name: string;
  readonly onSubmit: (c: { username: string; password: string }) => void;
}) {
  const [username, setUsername] = useState(props.user);
  const [password, setPassword] = useState('');
  return (
    <form
      class="card desktop-message"
      onSubmit={(e) => {
        e.preventDefault();
        props.onSubmit({ username, password });
      }}
    >
      <h2>Sign in to {props.name}</h2>
      <p class="muted">
        These go to the desktop only. Some desktops show their own sign-in screen instead.
      </p>
      <div class="field">
        <label for="rdp-user">User name on the desktop</label>
        <input
          id="rdp-user"
          autocomplete="username"
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
      </div>
      <PasswordField id="rdp-password" label="Password" value={password} onInput={setPassword} />
      <button type="submit" class="button">
        Connect
      </button>
    </form>
  );
}

/** A labelled password field of the desktop's sign-in forms. */
function PasswordField(props: {
  readonly id: string;
  readonly label: string;
  readonly value: string;
  readonly onInput: (value: string) => void;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="password"
        autocomplete="current-password"
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
    </div>
  );
}

/** VNC: the desktop's VNC password, when it asks for one. */
function PasswordForm(props: { readonly name: string; readonly onSubmit: (p: string) => void }) {
  const [password, setPassword] = useState('');
  return (
    <form
      class="card desktop-message"
      onSubmit={(e) => {
        e.preventDefault();
        props.onSubmit(password);
      }}
    >
      <h2>{props.name} asks for its password</h2>
      <PasswordField
        id="vnc-password"
        label="VNC password"
        value={password}
        onInput={setPassword}
      />
      <button type="submit" class="button">
        Continue
      </button>
    </form>
  );
}
