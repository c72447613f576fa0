/**
 * What people read when something goes wrong: a sentence with the next step, never a code
 * alone. The API's own message is used where it is already written for people.
 */
import { ApiError, NetworkError } from './api.ts';

/** "10:42 (in 5 minutes)" for a wait of `seconds` from now. */
export function whenAgain(seconds: number, now = new Date()): string {
  const at = new Date(now.getTime() + seconds * 1000);
  const time = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const minutes = Math.ceil(seconds / 60);
  const wait =
    seconds < 60 ? `${Math.ceil(seconds)} seconds` : `${minutes} minute${minutes === 1 ? '' : 's'}`;
  return `${time} (in ${wait})`;
}

const capitalize = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);
const sentence = (s: string) => {
  const t = capitalize(s.trim());
  return /[.!?]$/.test(t) ? t : `${t}.`;
};

/** The sentence for a failed sign-in. */
export function signInProblem(e: unknown): string {
  if (e instanceof ApiError) {
    switch (e.code) {
      case 'invalid_credentials':
        return 'The user name or password is not right. Check them and try again.';
      case 'invalid_mfa_code':
        return 'That code is wrong or has expired. Enter the current code from your authenticator app.';
      case 'too_many_attempts':
        return e.retryAfterSeconds
          ? `Too many failed sign-ins. You can try again at ${whenAgain(e.retryAfterSeconds)}, or ask your administrator to unlock your account.`
          : 'Too many failed sign-ins. Wait a few minutes and try again, or ask your administrator.';
      case 'no_assignment':
        return 'You are signed in, but no desktops are assigned to you. Ask your administrator for access.';
      case 'mfa_not_enrolled':
        return 'Your sign-in needs a one-time code, but no authenticator app is enrolled for you. Ask your administrator to enrol one.';
      case 'site_database_unavailable':
        return `${sentence(e.message)} If this goes on, tell your administrator.`;
      case 'auth_server_unavailable':
        return 'The sign-in server does not answer right now. Try again in a minute; if it goes on, tell your administrator.';
    }
  }
  return problem(e);
}

/** The sentence for any other failed call. */
export function problem(e: unknown): string {
  if (e instanceof NetworkError)
    return 'The broker did not answer. Check your network connection and try again.';
  if (e instanceof ApiError) {
    if (e.status === 503)
      return `${sentence(e.message)} Try again in a minute; if it goes on, tell your administrator.`;
    if (e.status >= 500)
      return 'Something went wrong on the broker. Try again; if it goes on, tell your administrator.';
    return sentence(e.message);
  }
  return 'Something went wrong in this page. Reload it and try again.';
}

/** Whether the error means the session is gone and the person must sign in again. */
export const sessionEnded = (e: unknown) => e instanceof ApiError && e.status === 401;
