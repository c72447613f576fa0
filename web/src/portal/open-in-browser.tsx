/**
 * "Open in browser": the place where a desktop offers an HTML5 session in this browser.
 * Empty until the HTML5 desktop page exists (issue 12 fills this component); the offer card
 * already leaves room for it.
 */
import type { Offer } from '../shared/portal-api.ts';

export function OpenInBrowser(_props: { readonly offer: Offer; readonly busy: boolean }) {
  return null;
}
