/**
 * The console's place in the URL: `/admin/<view>?filters&cursor=...`, so a view, its filters
 * and its page can be bookmarked, shared and reached with Back. Links stay real links.
 */
import { useEffect, useState } from 'preact/hooks';

export const VIEWS = [
  { path: '', label: 'Overview' },
  { path: 'desktops', label: 'Desktops' },
  { path: 'pools', label: 'Pools' },
  { path: 'sessions', label: 'Sessions' },
  { path: 'clients', label: 'Clients' },
  { path: 'gateways', label: 'Gateways' },
  { path: 'log', label: 'Log' },
  { path: 'leases', label: 'Leases' },
  { path: 'configuration', label: 'Configuration' },
] as const;

export type ViewPath = (typeof VIEWS)[number]['path'];

export interface Place {
  readonly view: ViewPath | undefined;
  readonly params: URLSearchParams;
}

function current(): Place {
  const rest = location.pathname.replace(/^\/admin\/?/, '').replace(/\/$/, '');
  const view = VIEWS.find((v) => v.path === rest)?.path;
  return { view, params: new URLSearchParams(location.search) };
}

/** The URL of a view with these parameters (empty ones left out). */
export function href(view: ViewPath, params: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) query.set(k, v);
  const qs = query.toString();
  return `/admin${view ? `/${view}` : ''}${qs ? `?${qs}` : ''}`;
}

/** Goes to `url` within the console (a history entry, unless `replace`). */
export function navigate(url: string, replace = false): void {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  dispatchEvent(new PopStateEvent('popstate'));
}

/** The current place, updated on navigation and Back/Forward. */
export function usePlace(): Place {
  const [place, setPlace] = useState(current);
  useEffect(() => {
    const update = () => setPlace(current());
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return place;
}

/** A click on a console link: navigate in place (a modified click opens a new tab as usual). */
export function followLink(event: MouseEvent): void {
  const link = (event.target as Element).closest('a');
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/admin')) return;
  if (link.hasAttribute('download') || link.target) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}
