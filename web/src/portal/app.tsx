/**
 * The user portal: sign in, see the offered desktops, connect, release, sign out. A page
 * load with a live session (the cookie) goes straight to the desktops.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { type Branding, DEFAULT_BRANDING, loadBranding } from '../shared/branding.ts';
import { problem } from '../shared/messages.ts';
import { type OfferList, portalApi } from '../shared/portal-api.ts';
import { type Notice, SignIn } from '../shared/sign-in.tsx';
import { TopBar } from '../shared/top-bar.tsx';
import { Desktops } from './desktops.tsx';

type View =
  | { readonly kind: 'starting' }
  | { readonly kind: 'signIn'; readonly notice?: Notice }
  | { readonly kind: 'desktops'; readonly user: string; readonly list: OfferList };

export function App() {
  const [branding, setBranding] = useState<Branding | undefined>();
  const [view, setView] = useState<View>({ kind: 'starting' });
  const [announcement, setAnnouncement] = useState('');
  const [signingOut, setSigningOut] = useState(false);

  useEffect(() => {
    // A live session (the cookie) skips the sign-in. The first view waits for the site's
    // branding too, so its title never flashes the default.
    const start = portalApi.session().then(
      async (session): Promise<View> => ({
        kind: 'desktops',
        user: session.user.name,
        list: await portalApi.offers(),
      }),
      (): View => ({ kind: 'signIn' }),
    );
    Promise.all([loadBranding(), start.catch((): View => ({ kind: 'signIn' }))]).then(
      ([brand, first]) => {
        setBranding(brand);
        setView(first);
      },
    );
  }, []);

  useEffect(() => {
    const page = view.kind === 'desktops' ? 'Your desktops' : 'Sign in';
    document.title = `${page} · ${(branding ?? DEFAULT_BRANDING).title}`;
  }, [view.kind, branding]);

  const sessionEnded = useCallback(() => {
    setView({
      kind: 'signIn',
      notice: { tone: 'info', text: 'Your session has ended. Sign in again to see your desktops.' },
    });
  }, []);

  const signOut = async () => {
    setSigningOut(true);
    try {
      await portalApi.logout();
      setView({ kind: 'signIn', notice: { tone: 'ok', text: 'You have signed out.' } });
    } catch (e: unknown) {
      setAnnouncement(problem(e));
    } finally {
      setSigningOut(false);
    }
  };

  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <TopBar
        branding={branding}
        user={view.kind === 'desktops' ? view.user : undefined}
        onSignOut={signOut}
        signingOut={signingOut}
      />
      {view.kind === 'starting' && (
        <main id="main" class="page narrow" aria-busy="true">
          <p class="muted">Loading…</p>
        </main>
      )}
      {view.kind === 'signIn' && (
        <SignIn
          title={(branding ?? DEFAULT_BRANDING).title}
          notice={view.notice}
          onSignedIn={(answer) =>
            setView({
              kind: 'desktops',
              user: answer.user.name,
              list: { mode: answer.mode, offers: answer.offers, reason: answer.reason },
            })
          }
        />
      )}
      {view.kind === 'desktops' && (
        <Desktops
          list={view.list}
          onList={(list) => setView({ ...view, list })}
          onSessionEnded={sessionEnded}
          announce={setAnnouncement}
        />
      )}
      <div class="sr-only" role="status" aria-live="polite">
        {announcement}
      </div>
    </>
  );
}
