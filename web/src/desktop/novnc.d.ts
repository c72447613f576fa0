/** The parts of noVNC's RFB (docs/API.md of @novnc/novnc 1.7) the desktop page uses. */
declare module '@novnc/novnc' {
  export default class RFB extends EventTarget {
    constructor(
      target: HTMLElement,
      urlOrChannel: string | WebSocket,
      options?: {
        shared?: boolean;
        credentials?: { username?: string; password?: string; target?: string };
        wsProtocols?: string[];
      },
    );
    scaleViewport: boolean;
    clipViewport: boolean;
    resizeSession: boolean;
    focusOnClick: boolean;
    background: string;
    disconnect(): void;
    sendCtrlAltDel(): void;
    clipboardPasteFrom(text: string): void;
    sendCredentials(credentials: { username?: string; password?: string }): void;
    focus(options?: FocusOptions): void;
  }
}
