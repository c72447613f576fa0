/**
 * Moves focus to a view's main heading when the view changes, so keyboard and screen-reader
 * users start at the top of what is new (the heading needs tabIndex={-1}).
 */
import type { RefObject } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export function useFocusHeading<T extends HTMLElement>(key: unknown): RefObject<T | null> {
  const ref = useRef<T>(null);
  useEffect(() => {
    ref.current?.focus();
  }, [key]);
  return ref;
}
