/**
 * The sign-in form: user name and password, the authentication server when the site has
 * more than one, then the one-time code when the user's assignment asks for one.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';
import { signInProblem } from './messages.ts';
import { type AuthServer, type LoginAnswer, portalApi } from './portal-api.ts';
import { useFocusHeading } from './use-focus-heading.ts';

export interface Notice {
  readonly tone: 'info' | 'warning' | 'ok';
  readonly text: string;
}

export function SignIn(props: {
  readonly title: string;
  readonly notice?: Notice;
  readonly onSignedIn: (answer: LoginAnswer) => void;
}) {
  const [servers, setServers] = useState<AuthServer[]>([]);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [authServer, setAuthServer] = useState('');
  const [code, setCode] = useState('');
  const [step, setStep] = useState<'password' | 'code'>('password');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const heading = useFocusHeading<HTMLHeadingElement>(step);
  const codeInput = useRef<HTMLInputElement>(null);
  const passwordInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    portalApi.authServers().then(
      (answer) => setServers(answer.authServers),
      () => setServers([]), // The sign-in itself will say what is wrong.
    );
  }, []);
  useEffect(() => {
    if (step === 'code') codeInput.current?.focus();
  }, [step]);
  // After a refusal, the field to correct has the focus (the alert itself is announced).
  useEffect(() => {
    if (error) (step === 'code' ? codeInput : passwordInput).current?.focus();
  }, [error, step]);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(undefined);
    try {
      const answer = await portalApi.login({
        username,
        password,
        ...(servers.length > 1 && authServer ? { authServer } : {}),
        ...(step === 'code' ? { mfaCode: code.trim() } : {}),
        client: { name: 'Web browser' },
      });
      props.onSignedIn(answer);
    } catch (e: unknown) {
      if (e instanceof ApiError && e.code === 'mfa_required') {
        setStep('code');
      } else {
        setError(signInProblem(e));
        if (step === 'code') setCode('');
        else setPassword('');
      }
      setBusy(false);
    }
  };

  const startOver = () => {
    setStep('password');
    setCode('');
    setPassword('');
    setError(undefined);
  };

  return (
    <main id="main" class="page narrow">
      <div class="card signin">
        <h1 ref={heading} tabIndex={-1}>
          {step === 'code' ? 'Enter your one-time code' : `Sign in to ${props.title}`}
        </h1>
        {props.notice && !error && (
          <div class={`banner ${props.notice.tone}`} role="status">
            {props.notice.text}
          </div>
        )}
        {error && (
          <div class="banner error" role="alert" id="signin-error">
            {error}
          </div>
        )}
        <form onSubmit={submit} aria-describedby={error ? 'signin-error' : undefined}>
          {step === 'password' ? (
            <>
              <div class="field">
                <label for="username">User name</label>
                <input
                  id="username"
                  name="username"
                  autocomplete="username"
                  autocapitalize="none"
                  spellcheck={false}
                  required
                  maxLength={256}
                  value={username}
                  onInput={(e) => setUsername(e.currentTarget.value)}
                  aria-invalid={error ? 'true' : undefined}
                />
              </div>
              <div class="field">
                <label for="password">Password</label>
                <input
                  id="password"
                  ref={passwordInput}
                  name="password"
                  type="password"
                  autocomplete="current-password"
                  required
                  maxLength={1024}
                  value={password}
                  onInput={(e) => setPassword(e.currentTarget.value)}
                  aria-invalid={error ? 'true' : undefined}
                />
              </div>
              {servers.length > 1 && (
                <div class="field">
                  <label for="auth-server">Sign in with</label>
                  <select
                    id="auth-server"
                    name="authServer"
                    value={authServer}
                    onChange={(e) => setAuthServer(e.currentTarget.value)}
                  >
                    <option value="">Any (tried in order)</option>
                    {servers.map((s) => (
                      <option key={s.name} value={s.name}>
                        {s.name} ({s.type === 'ldap' ? 'directory' : 'local account'})
                      </option>
                    ))}
                  </select>
                </div>
              )}
            </>
          ) : (
            <>
              <p>
                Signing in as <strong>{username}</strong>. Open your authenticator app and enter the
                code it shows for this site.
              </p>
              <div class="field">
                <label for="code">One-time code</label>
                <input
                  id="code"
                  name="code"
                  ref={codeInput}
                  inputMode="numeric"
                  autocomplete="one-time-code"
                  pattern="[0-9]{6,8}"
                  required
                  maxLength={8}
                  value={code}
                  onInput={(e) => setCode(e.currentTarget.value.replace(/\D/g, ''))}
                  aria-describedby="code-hint"
                  aria-invalid={error ? 'true' : undefined}
                />
                <span class="hint" id="code-hint">
                  6 to 8 digits
                </span>
              </div>
            </>
          )}
          <button type="submit" class="button wide" disabled={busy}>
            {busy ? 'Signing in…' : step === 'code' ? 'Verify and sign in' : 'Sign in'}
          </button>
          {step === 'code' && (
            <p class="after-form">
              <button type="button" class="button quiet wide" onClick={startOver}>
                Use another account
              </button>
            </p>
          )}
        </form>
      </div>
    </main>
  );
}
