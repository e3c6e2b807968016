// A React 19 host: <mend-connection> in JSX with its attributes, a ref to the
// element, and its events as `onmend:…` props. Every `@ts-expect-error` is a
// mistake the types must catch.
/// <reference path="../../assets/mend-react.d.ts" />

import { useEffect, useRef, useState } from 'react';
import type { MendConnection, MendConnections } from '../../assets/mend';

export function BankConnection({ id, session }: { id: number; session: string }) {
  const ref = useRef<MendConnection>(null);
  const [state, setState] = useState<string | null>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const onResolved = (e: CustomEvent<{ connectionId: number }>) => console.log(e.detail);
    el.addEventListener('mend:resolved', onResolved);
    return () => el.removeEventListener('mend:resolved', onResolved);
  }, []);
  return (
    <section aria-label="Bank">
      <p>{state ?? 'ok'}</p>
      <mend-connection
        ref={ref}
        key={id}
        connection-id={id}
        session={session}
        api-base="https://proxy.example"
        redirect-uri="https://app.example/bank/return"
        lang="fr"
        theme="dark"
        compact
        className="bank"
        onmend:state={(e) => setState(e.detail.state)}
        onmend:redirect={(e) => {
          if (e.detail.kind === 'webauth') e.preventDefault();
        }}
        onmend:session-expired={(e) => console.log(e.detail.connectionId)}
        onmend:error={(e) => console.log(e.detail.code, e.detail.message)}
      />
      <button type="button" onClick={() => ref.current?.refresh()}>
        Refresh
      </button>
    </section>
  );
}

export function Mistakes({ session }: { session: string }) {
  return (
    <>
      {/* @ts-expect-error: connection-id is required */}
      <mend-connection session={session} />
      {/* @ts-expect-error: not a theme */}
      <mend-connection connection-id="1" session={session} theme="pink" />
      <mend-connection
        connection-id="1"
        session={session}
        // @ts-expect-error: `mend:state` has no `url`
        onmend:state={(e) => console.log(e.detail.url)}
      />
    </>
  );
}

// <mend-connections>: the banner for the whole app, same events (from its entries).
export function Banner({ session }: { session: string }) {
  const ref = useRef<MendConnections>(null);
  return (
    <mend-connections
      ref={ref}
      session={session}
      api-base="https://proxy.example"
      lang="fr"
      theme="light"
      onmend:resolved={(e) => console.log(e.detail.connectionId)}
      onmend:session-expired={(e) => console.log(e.detail.connectionId ?? 'the list')}
    />
  );
}

export function ListMistakes({ session }: { session: string }) {
  return (
    <>
      {/* @ts-expect-error: session is required */}
      <mend-connections />
      {/* @ts-expect-error: not a theme */}
      <mend-connections session={session} theme="pink" />
    </>
  );
}
