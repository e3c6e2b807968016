// Types of mend.js, the Mend widget's module (served next to it at /widget/mend.d.ts).
//
// Copy this file into a TypeScript host (or reference it) beside its import of mend.js:
//   import 'https://proxy.example/widget/mend.js';      // or a local copy
//   /// <reference path="./mend.d.ts" />
// It declares <mend-connection> and <mend-connections> for the DOM: document.createElement, querySelector,
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

/**
 * `detail` of `mend:session-expired`: the host should set a fresh `session`.
 * `connectionId` is `null` when `<mend-connections>` itself had its list refused.
 */
export interface MendSessionExpiredDetail {
  connectionId: number | null;
}

/** `detail` of `mend:error`. `code` is one of the proxy's error codes (docs/api.md), or `load_failed`. */
export interface MendErrorDetail {
  /** `null` when `<mend-connections>` itself could not read the list. */
  connectionId: number | null;
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

/**
 * The attributes of `<mend-connections>`: those of `<mend-connection>` that the list
 * passes on to each of its entries.
 */
export type MendConnectionsAttributes = Omit<MendConnectionAttributes, 'connection-id' | 'compact'>;

/**
 * `data-state` of `<mend-connections>`: `loading` before the list is read, `empty`
 * when nothing needs attention (the list is hidden), `shown`, `unavailable` when the
 * proxy can't be reached (a retry button is shown), `session-expired`.
 */
export type MendConnectionsDataState = 'loading' | 'empty' | 'shown' | 'unavailable' | 'session-expired';

/**
 * JS properties of both elements, mirroring their attributes (reading one reads the
 * attribute; setting one sets it, `null` removes it; `connection-id`, `lang` (the
 * standard `lang` property), `compact` are set as attributes). React 19 sets these as
 * properties, any host may: `el.session = jwt`.
 */
export interface MendCommonProperties {
  /** `session`. */
  session: string | null;
  /** `api-base`. */
  apiBase: string | null;
  /** `redirect-uri`. */
  redirectUri: string | null;
  /** `theme`. */
  theme: MendTheme | (string & {}) | null;
}

/**
 * What both elements have: the properties mirroring their attributes, and the typed
 * `addEventListener`/`removeEventListener` (`mend:*` events with their `detail`, then
 * the usual element events).
 */
export interface MendElement<Self> extends HTMLElement, MendCommonProperties {
  addEventListener<K extends keyof MendEventMap>(
    type: K,
    listener: (this: Self, ev: MendEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener<K extends keyof HTMLElementEventMap>(
    type: K,
    listener: (this: Self, ev: HTMLElementEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof MendEventMap>(
    type: K,
    listener: (this: Self, ev: MendEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener<K extends keyof HTMLElementEventMap>(
    type: K,
    listener: (this: Self, ev: HTMLElementEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** `<mend-connection>`: one Powens connection's status, repairable in place. */
export interface MendConnection extends MendElement<MendConnection> {
  /** Fetches the connection's status again. */
  refresh(): void;
}
export declare var MendConnection: { prototype: MendConnection; new (): MendConnection };

/**
 * `<mend-connections>`: the status banner for the whole app. One request reads the
 * session user's connections; each that needs the user is a `<mend-connection>` in
 * this element's open shadow root (same panels, events and hooks; the events bubble
 * out of it), those Powens retries by itself one calm line each; fine connections get
 * nothing, and the element hides itself when nothing needs attention. `data-count` =
 * how many connections need the user to act.
 */
export interface MendConnections extends MendElement<MendConnections> {
  /** Reads the user's connections again (entries shown stay as they are; fine ones leave). */
  refresh(): void;
}
export declare var MendConnections: { prototype: MendConnections; new (): MendConnections };

/** Resolves once the widget's wasm is started (rejects if it could not be loaded). */
export declare function whenReady(): Promise<void>;

declare global {
  interface HTMLElementTagNameMap {
    'mend-connection': MendConnection;
    'mend-connections': MendConnections;
  }
  // Bubbling and composed: a listener on a parent, `document` or `window` gets them too.
  interface HTMLElementEventMap extends MendEventMap {}
  interface DocumentEventMap extends MendEventMap {}
  interface WindowEventMap extends MendEventMap {}
}
