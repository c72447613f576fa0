/** What every view of the console shares with the shell: how to report what happened. */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export interface Console {
  /** The session is gone (401): back to the sign-in. */
  readonly sessionEnded: () => void;
  /** Whether the site database answers (false: leased mode, administration waits). */
  readonly databaseAnswers: (answers: boolean) => void;
  readonly leased: boolean;
  /** Says something to screen-reader users (a polite live region). */
  readonly announce: (text: string) => void;
}

export const ConsoleContext = createContext<Console>({
  sessionEnded: () => {},
  databaseAnswers: () => {},
  leased: false,
  announce: () => {},
});

export const useConsole = () => useContext(ConsoleContext);
