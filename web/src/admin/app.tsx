/**
 * The admin console's shell: who may come in (administrators; others are told so), the
 * navigation between views, the leased-mode banner, and the live region that announces
 * what actions did. Each view lives in its own file.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { type Branding, DEFAULT_BRANDING, loadBranding } from '../shared/branding.ts';
import { problem } from '../shared/messages.ts';
import { portalApi, type SessionInfo } from '../shared/portal-api.ts';
import { type Notice, SignIn } from '../shared/sign-in.tsx';
import { TopBar } from '../shared/top-bar.tsx';
import { ClientsView } from './clients.tsx';
import { ConfigurationView } from './configuration.tsx';
import { type Console, ConsoleContext } from './context.ts';
import { DesktopsView } from './desktops.tsx';
import { GatewaysView } from './gateways.tsx';
import { LeasesView } from './leases.tsx';
import { LogView } from './log.tsx';
import { OverviewView } from './overview.tsx';
import { PoolsView } from './pools.tsx';
import { followLink, href, type Place, usePlace, VIEWS } from './router.ts';
import { SessionsView } from './sessions.tsx';

type Gate =
  | { readonly kind: 'starting' }
  | { readonly kind: 'signIn'; readonly notice?: Notice }
  | { readonly kind: 'notAdmin'; readonly user: string }
  | { readonly kind: 'in'; readonly user: string };

function View(props: { readonly place: Place }) {
  const { view, params } = props.place;
  switch (view) {
    case '':
      return <OverviewView params={params} />;
    case 'desktops':
      return <DesktopsView params={params} />;
    case 'pools':
      return <PoolsView params={params} />;
    case 'sessions':
      return <SessionsView params={params} />;
    case 'clients':
      return <ClientsView params={params} />;
    case 'gateways':
      return <GatewaysView params={params} />;
    case 'log':
      return <LogView params={params} />;
    case 'leases':
      return <LeasesView params={params} />;
    case 'configuration':
      return <ConfigurationView />;
    default:
      return (
        <section class="card">
          <h1>There is no such page in the console</h1>
          <p>
            <a href={href('')}>Go to the overview</a>
          </p>
        </section>
      );
  }
}

const gateOf = (session: SessionInfo): Gate =>
  session.admin
    ? { kind: 'in', user: session.user.name }
    : { kind: 'notAdmin', user: session.user.name };

export function App() {
  const place = usePlace();
  const [branding, setBranding] = useState<Branding | undefined>();
  const [gate, setGate] = useState<Gate>({ kind: 'starting' });
  const [leased, setLeased] = useState(false);
  const [announcement, setAnnouncement] = useState('');
  const [signingOut, setSigningOut] = useState(false);

  useEffect(() => {
    const start = portalApi.session().then(gateOf, (): Gate => ({ kind: 'signIn' }));
    Promise.all([loadBranding(), start]).then(([brand, first]) => {
      setBranding(brand);
      setGate(first);
    });
  }, []);

  const title = (branding ?? DEFAULT_BRANDING).title;
  const current = VIEWS.find((v) => v.path === place.view)?.label ?? 'Not found';
  useEffect(() => {
    document.title = `${gate.kind === 'in' ? current : 'Sign in'} · ${title} administration`;
  }, [gate.kind, current, title]);

  const sessionEnded = useCallback(() => {
    setGate({
      kind: 'signIn',
      notice: { tone: 'info', text: 'Your session has ended. Sign in again to go on.' },
    });
  }, []);
  const shell = useMemo<Console>(
    () => ({
      sessionEnded,
      databaseAnswers: (answers) => setLeased(!answers),
      leased,
      announce: setAnnouncement,
    }),
    [sessionEnded, leased],
  );

  const signOut = async () => {
    setSigningOut(true);
    try {
      await portalApi.logout();
      setGate({ kind: 'signIn', notice: { tone: 'ok', text: 'You have signed out.' } });
    } catch (e: unknown) {
      setAnnouncement(problem(e));
    } finally {
      setSigningOut(false);
    }
  };

  const user = gate.kind === 'in' || gate.kind === 'notAdmin' ? gate.user : undefined;
  return (
    <ConsoleContext.Provider value={shell}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <TopBar branding={branding} user={user} onSignOut={signOut} signingOut={signingOut} />
      {gate.kind === 'starting' && (
        <main id="main" class="page narrow" aria-busy="true">
          <p class="muted">Loading…</p>
        </main>
      )}
      {gate.kind === 'signIn' && (
        <SignIn
          title={`${title} administration`}
          notice={gate.notice}
          onSignedIn={() =>
            // The sign-in answer does not say whether the user administers the site; the
            // session does.
            portalApi
              .session()
              .then(gateOf, (): Gate => ({ kind: 'signIn' }))
              .then(setGate)
          }
        />
      )}
      {gate.kind === 'notAdmin' && (
        <main id="main" class="page narrow">
          <section class="card" aria-labelledby="not-admin">
            <h1 id="not-admin">This console is for administrators</h1>
            <p>
              You are signed in as <strong>{gate.user}</strong>, who is not an administrator of this
              site. Sign out and sign in with an administrator account, or ask an administrator for
              access.
            </p>
            <p>
              <a href="/">Go to your desktops</a>
            </p>
          </section>
        </main>
      )}
      {gate.kind === 'in' && (
        // biome-ignore lint/a11y/noStaticElementInteractions: link clicks bubble up here to stay in the console; the links themselves are the interactive elements.
        // biome-ignore lint/a11y/useKeyWithClickEvents: Enter on a link fires this click too.
        <div class="console" onClick={(e) => followLink(e)}>
          <nav class="views" aria-label="Administration">
            <p class="nav-title" aria-hidden="true">
              Administration
            </p>
            <ul>
              {VIEWS.map((v) => (
                <li key={v.path}>
                  <a href={href(v.path)} aria-current={v.path === place.view ? 'page' : undefined}>
                    {v.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <main id="main" class="page wide">
            {leased && (
              <div class="banner warning" role="status">
                <strong>Administration waits for the site database</strong>
                The broker cannot reach its site database and serves users from their connection
                leases (leased mode). Changes and most views come back when the database answers;
                who is signed in and the leases are shown meanwhile.
              </div>
            )}
            <View place={place} />
          </main>
        </div>
      )}
      <div class="sr-only" role="status" aria-live="polite">
        {announcement}
      </div>
    </ConsoleContext.Provider>
  );
}
