// A plain TypeScript host (no framework): the DOM knows <mend-connection>, its
// attributes are set as attributes, its events carry typed `detail`s wherever they
// bubble to. Every `@ts-expect-error` is a mistake the types must catch.
/// <reference path="../../assets/mend.d.ts" />

import type { MendConnection, MendConnections, MendRedirectDetail } from '../../assets/mend';

const el: MendConnection = document.createElement('mend-connection');
el.setAttribute('connection-id', '42');
el.setAttribute('session', 'eyJ…');
document.body.append(el);
el.refresh();

const found: MendConnection | null = document.querySelector('mend-connection');
found?.refresh();

el.addEventListener('mend:state', (e) => {
  const state: string | null = e.detail.state;
  const previous: string | null = e.detail.previous;
  const id: number = e.detail.connectionId;
  console.log(state, previous, id);
  // @ts-expect-error: `mend:state` has no `url`
  console.log(e.detail.url);
});
el.addEventListener('mend:redirect', (e) => {
  const kind: 'reconnect' | 'webauth' = e.detail.kind;
  if (kind === 'reconnect') e.preventDefault();
  const detail: MendRedirectDetail = e.detail;
  console.log(detail.url);
});
// Bubbling and composed: the same types on document and window.
document.addEventListener('mend:session-expired', (e) => {
  el.setAttribute('session', `fresh-for-${e.detail.connectionId}`);
});
window.addEventListener('mend:error', (e) => {
  const message: string = e.detail.message;
  console.log(e.detail.code, message);
});
document.body.addEventListener('mend:resolved', (e) => console.log(e.detail.connectionId));
el.addEventListener('click', (e: MouseEvent) => console.log(e.button));

// @ts-expect-error: no such method
el.reload();
el.addEventListener('mend:state', (e) => {
  // @ts-expect-error: connectionId is a number
  const id: string = e.detail.connectionId;
  console.log(id);
});

// JS properties mirror the attributes.
el.session = 'eyJ…fresh';
const s: string | null = el.session;
el.theme = 'dark';
el.apiBase = null;
console.log(s, el.redirectUri);
// @ts-expect-error: session is a string
el.session = 42;

// <mend-connections>: the list, with the same events (its entries' bubble out of it).
const list: MendConnections = document.createElement('mend-connections');
list.session = 'eyJ…';
list.apiBase = 'https://proxy.example';
document.body.append(list);
list.refresh();
list.addEventListener('mend:resolved', (e) => console.log(e.detail.connectionId));
list.addEventListener('mend:session-expired', (e) => {
  // null when the list itself was refused
  const id: number | null = e.detail.connectionId;
  list.session = `fresh-${id ?? 'list'}`;
});
const listed: MendConnections | null = document.querySelector('mend-connections');
console.log(listed?.getAttribute('data-count'));
// @ts-expect-error: the list has no connection id
list.connectionId = 4;
