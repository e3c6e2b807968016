// What the three hosts of e2e/frameworks.test.mjs expose to the test, the same for
// plain HTML, React and Vue: the test renders through `window.host` and reads the
// events the host itself received in `window.hostEvents`.

/** The props the test passes to the host's app on each render. */
export interface HostProps {
  /** Whether the app renders the widget (false unmounts it). */
  shown: boolean;
  /** The widget session to pass to `<mend-connection>` (or `<mend-connections>`). */
  session: string;
  /** Render `<mend-connections>` (the whole app's banner) instead of connection 104's element. */
  list?: boolean;
}

/** The host's controls, on `window.host`. */
export interface HostControls {
  render(props: HostProps): void;
}

declare global {
  interface Window {
    host: HostControls;
    hostEvents: { type: string; detail: unknown }[];
  }
}
