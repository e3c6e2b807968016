// The React 19 host of e2e/frameworks.test.mjs: <mend-connection> written as a React
// user would (attributes as JSX props, events as `onmend:…` props, the element's state
// kept in React state), under StrictMode. The test drives it through `window.host`:
// render({ shown, session }) re-renders the app with new props. Bundled by esbuild in
// the test; type-checked against assets/mend-react.d.ts by e2e/types.test.mjs.
/// <reference path="../../assets/mend-react.d.ts" />

import { StrictMode, useState } from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import type { HostControls, HostProps } from './host';

/** What the host records of an event, for the test to read. */
function log(event: CustomEvent) {
  window.hostEvents.push({ type: event.type, detail: event.detail });
}

function BankConnection({ id, session }: { id: number; session: string }) {
  const [state, setState] = useState('loading');
  const [resolved, setResolved] = useState(0);
  return (
    <section aria-label="Bank connection">
      <p id="host-state">{state}</p>
      <p id="host-resolved">{resolved}</p>
      <mend-connection
        connection-id={id}
        session={session}
        theme="light"
        onmend:state={(e) => {
          log(e);
          setState(e.detail.state ?? 'ok');
        }}
        onmend:resolved={(e) => {
          log(e);
          setResolved((n) => n + 1);
        }}
        onmend:error={log}
        onmend:session-expired={log}
      />
    </section>
  );
}

/**
 * The whole app's banner: <mend-connections>, its entries' events heard on it (they
 * bubble out of its shadow root); the host follows connection 104.
 */
function BankConnections({ session }: { session: string }) {
  const [state, setState] = useState('loading');
  const [resolved, setResolved] = useState(0);
  return (
    <section aria-label="Bank connections">
      <p id="host-state">{state}</p>
      <p id="host-resolved">{resolved}</p>
      <mend-connections
        session={session}
        theme="light"
        onmend:state={(e) => {
          log(e);
          if (e.detail.connectionId === 104) setState(e.detail.state ?? 'ok');
        }}
        onmend:resolved={(e) => {
          log(e);
          setResolved((n) => n + 1);
        }}
        onmend:error={log}
        onmend:session-expired={log}
      />
    </section>
  );
}

function App({ shown, session, list }: HostProps) {
  if (!shown) return <main><p>No widget</p></main>;
  return <main>{list ? <BankConnections session={session} /> : <BankConnection id={104} session={session} />}</main>;
}

const root = createRoot(document.getElementById('app')!);
const controls: HostControls = {
  render(props) {
    // At once, so the test sees the DOM the render made.
    flushSync(() =>
      root.render(
        <StrictMode>
          <App {...props} />
        </StrictMode>,
      ),
    );
  },
};
window.hostEvents = [];
window.host = controls;
