/** The bar at the top of every page: the site's logo and name, who is signed in, sign out. */
import type { ComponentChildren } from 'preact';
import type { Branding } from './branding.ts';

export function TopBar(props: {
  /** Undefined while the site's branding loads: the bar stays empty rather than flash a default. */
  readonly branding: Branding | undefined;
  readonly user?: string;
  readonly onSignOut?: () => void;
  readonly signingOut?: boolean;
  readonly children?: ComponentChildren;
}) {
  return (
    <header class="topbar">
      {props.branding ? (
        <a class="brand" href="/">
          <img src={props.branding.logo} alt="" width={32} height={32} />
          <span>{props.branding.title}</span>
        </a>
      ) : (
        <span class="brand" />
      )}
      {props.children}
      {props.user && (
        <div class="account">
          <span class="who">
            Signed in as <strong>{props.user}</strong>
          </span>
          <button
            type="button"
            class="button quiet"
            onClick={props.onSignOut}
            disabled={props.signingOut}
          >
            {props.signingOut ? 'Signing out…' : 'Sign out'}
          </button>
        </div>
      )}
    </header>
  );
}
