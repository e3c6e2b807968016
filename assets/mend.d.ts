// Types of mend.js, the Mend widget's module (served next to it at /widget/mend.d.ts).
//
// Copy this file into a TypeScript host (or reference it) beside its import of mend.js:
//   import 'https://proxy.example/widget/mend.js';      // or a local copy
//   /// <reference path="./mend.d.ts" />
// It declares <mend-connection> for the DOM: document.createElement, querySelector,
// addEventListener with typed `detail`s, on the element, document and window.
// mend-react.d.ts adds it to React 19's JSX, mend-vue.d.ts to Vue 3's components
// (separate files: each needs its framework's types, a plain host has neither).

/** A language of Powens' webview. A region tag (`pt-BR`) counts as its language. */
export type MendLang = 'en' | 'fr' | 'de' | 'es' | 'it' | 'nl' | 'pt';

/** `theme` attribute. */
export type MendTheme = 'light' | 'dark' | 'auto';

/**
 * `data-state` of the element: a Powens state (`SCARequired`, `decoupled`, …, an
 * unknown one as it comes), `ok` when fine, `loading` before the first answer,
 * `unavailable` when the proxy or Powens behind it can't be reached.
 */
export type MendDataState = 'ok' | 'loading' | 'unavailable' | (string & {});

/** `data-action` of the element's buttons. */
export type MendAction = 'submit' | 'resume' | 'reconnect' | 'webauth' | 'sync' | 'retry' | 'dismiss';

/** `detail` of `mend:state`: on every change of the Powens state. */
export interface MendStateDetail {
  connectionId: number;
  /** Powens' state string; `null` when fine. */
  state: string | null;
  previous: string | null;
}

/** `detail` of `mend:resolved`: a repair brought the state back to `null`. */
export interface MendResolvedDetail {
  connectionId: number;
}

/**
 * `detail` of `mend:redirect` (cancelable): unless the host calls
 * `preventDefault()`, the widget sends the top window to `url`.
 */
export interface MendRedirectDetail {
  connectionId: number;
  kind: 'reconnect' | 'webauth';
  url: string;
}

/** `detail` of `mend:session-expired`: the host should set a fresh `session`. */
export interface MendSessionExpiredDetail {
  connectionId: number;
}

/** `detail` of `mend:error`. `code` is one of the proxy's error codes (docs/api.md), or `load_failed`. */
export interface MendErrorDetail {
  connectionId: number;
  code: string;
  /** A message safe to show a user. */
  message: string;
}

/** The widget's events: `CustomEvent`s that bubble and are `composed`. */
export interface MendEventMap {
  'mend:state': CustomEvent<MendStateDetail>;
  'mend:resolved': CustomEvent<MendResolvedDetail>;
  'mend:redirect': CustomEvent<MendRedirectDetail>;
  'mend:session-expired': CustomEvent<MendSessionExpiredDetail>;
  'mend:error': CustomEvent<MendErrorDetail>;
}

/** The attributes of `<mend-connection>` (docs/widget.md). */
export interface MendConnectionAttributes {
  /** The Powens connection id (required). */
  'connection-id': string | number;
  /** The widget session signed by the host's backend (required; may be replaced at any time). */
  session: string;
  /** The proxy's origin; default: the origin mend.js came from. */
  'api-base'?: string;
  /** Where the bank or Powens' webview sends the user back; default: this page without query or fragment. */
  'redirect-uri'?: string;
  /** The widget's language; an unsupported one falls through to `<html lang>`, then the browser's, then `en`. */
  lang?: MendLang | (string & {});
  theme?: MendTheme;
  /** Banner only until opened. */
  compact?: boolean | '';
}

/** `<mend-connection>`: one Powens connection's status, repairable in place. */
export declare class MendConnection extends HTMLElement {
  /** Fetches the connection's status again. */
  refresh(): void;

  addEventListener<K extends keyof MendEventMap>(
    type: K,
    listener: (this: MendConnection, ev: MendEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener<K extends keyof HTMLElementEventMap>(
    type: K,
    listener: (this: MendConnection, ev: HTMLElementEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof MendEventMap>(
    type: K,
    listener: (this: MendConnection, ev: MendEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener<K extends keyof HTMLElementEventMap>(
    type: K,
    listener: (this: MendConnection, ev: HTMLElementEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** Resolves once the widget's wasm is started (rejects if it could not be loaded). */
export declare function whenReady(): Promise<void>;

declare global {
  interface HTMLElementTagNameMap {
    'mend-connection': MendConnection;
  }
  // Bubbling and composed: a listener on a parent, `document` or `window` gets them too.
  interface HTMLElementEventMap extends MendEventMap {}
  interface DocumentEventMap extends MendEventMap {}
  interface WindowEventMap extends MendEventMap {}
}
