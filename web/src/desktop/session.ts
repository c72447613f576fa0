/** What the desktop page does with a remote desktop, whichever protocol shows it. */

/** How a session ended. */
export interface SessionEnd {
  /** The WebSocket close code (the gateway's 4xxx codes, 1006 for a lost connection). */
  readonly code: number;
  readonly reason: string;
  /** The person pressed Disconnect. */
  readonly byUser: boolean;
  /** The desktop had been shown (the connection got past the handshake). */
  readonly wasConnected: boolean;
}

export interface SessionEvents {
  /** The desktop is on screen. */
  readonly onConnected: () => void;
  /** The desktop put text on its clipboard. */
  readonly onClipboard: (text: string) => void;
  readonly onEnded: (end: SessionEnd) => void;
  /** The desktop asks for a password (a VNC password): `answer` sends it. */
  readonly onPasswordRequired?: (answer: (password: string) => void) => void;
}

export interface DesktopSession {
  disconnect(): void;
  sendCtrlAltDel(): void;
  /** Puts text on the desktop's clipboard. */
  sendClipboard(text: string): void;
  /** Fit the desktop to the window (true), or show it at its own size with scroll bars. */
  setScaled(scaled: boolean): void;
  focus(): void;
}
