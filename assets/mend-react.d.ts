// Types of <mend-connection> and <mend-connections> in React 19's JSX (served next to mend.js at
// /widget/mend-react.d.ts, with mend.d.ts which it imports). In a React host:
//   /// <reference path="./mend-react.d.ts" />
// then <mend-connection connection-id={42} session={jwt} onmend:state={…} /> type-checks.

import type { HTMLAttributes, Key, RefAttributes } from 'react';
import type {
  MendConnection, MendConnectionAttributes, MendConnections, MendConnectionsAttributes, MendEventMap,
} from './mend';

/**
 * React 19 props of `<mend-connection>`: its attributes, the standard HTML ones, a
 * `ref` to the element, and its events as `onmend:…` (React 19 adds a listener for
 * an `on…` prop of a custom element, under the name that follows `on`).
 */
export type MendEventProps = {
  'onmend:state'?: (event: MendEventMap['mend:state']) => void;
  'onmend:resolved'?: (event: MendEventMap['mend:resolved']) => void;
  'onmend:redirect'?: (event: MendEventMap['mend:redirect']) => void;
  'onmend:session-expired'?: (event: MendEventMap['mend:session-expired']) => void;
  'onmend:error'?: (event: MendEventMap['mend:error']) => void;
};

/**
 * React 19 props of `<mend-connection>`. React 19 sets `session` and `theme`, which
 * the element has as JS properties (`MendCommonProperties`), as properties, the
 * others as attributes; both reach the element.
 */
export type MendConnectionReactProps = MendConnectionAttributes & MendEventProps;

/** React 19 props of `<mend-connections>` (its entries' events bubble out of it). */
export type MendConnectionsReactProps = MendConnectionsAttributes & MendEventProps;

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'mend-connection': MendConnectionReactProps &
        Omit<HTMLAttributes<MendConnection>, 'lang'> &
        RefAttributes<MendConnection> & { key?: Key | null };
      'mend-connections': MendConnectionsReactProps &
        Omit<HTMLAttributes<MendConnections>, 'lang'> &
        RefAttributes<MendConnections> & { key?: Key | null };
    }
  }
}
