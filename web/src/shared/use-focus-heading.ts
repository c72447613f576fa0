/**
 * Moves focus to a view's main heading when the view changes, so keyboard and screen-reader
 * users start at the top of what is new (the heading needs tabIndex={-1}). It never takes the
 * focus from a field the user is already typing in (a quick user, or a page still loading
 * its scripts while the user clicks into the sign-in form).
 */
import type { RefObject } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

const isField = (el: Element | null) =>
  el instanceof HTMLInputElement ||
  el instanceof HTMLTextAreaElement ||
  el instanceof HTMLSelectElement;

export function useFocusHeading<T extends HTMLElement>(key: unknown): RefObject<T | null> {
  const ref = useRef<T>(null);
  useEffect(() => {
    if (!isField(document.activeElement)) ref.current?.focus();
  }, [key]);
  return ref;
}
