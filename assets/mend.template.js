// <mend-connection>: the Mend widget as a custom element.
//
// Generated at build time from assets/mend.template.js by assets/post-build.sh,
// which fills in the content-hashed names of the wasm, its JS glue and the CSS
// (those are cached for long; this file must not be). Embed with:
//   <script type="module" src="https://proxy.example/widget/mend.js"></script>
//   <mend-connection connection-id="42" session="eyJ…"></mend-connection>
import init, { ElementHandle, initMend } from './__MEND_GLUE__';

const WASM = new URL('./__MEND_WASM__', import.meta.url);
const CSS = new URL('./__MEND_CSS__', import.meta.url).href;
// `api-base` defaults to the origin this module came from.
const ORIGIN = new URL(import.meta.url).origin;
const OBSERVED = ['connection-id', 'session', 'api-base', 'redirect-uri', 'lang', 'theme', 'compact'];

// The catalogues of the other languages (English is built into the wasm), by language:
// content-hashed file names, filled in by assets/post-build.sh.
const CATALOGUES = __MEND_CATALOGUES__;
const SPOKEN = ['en', ...Object.keys(CATALOGUES)];
const catalogues = new Map();

/** A promise of the catalogue of `lang` (its JSON object, or null), fetched once a page. */
function catalogue(lang) {
  let p = catalogues.get(lang);
  if (!p) {
    const file = CATALOGUES[lang];
    p = file
      ? fetch(new URL(`./${file}`, import.meta.url)).then((r) => (r.ok ? r.json() : null)).catch(() => null)
      : Promise.resolve(null);
    catalogues.set(lang, p);
  }
  return p;
}

/**
 * The language the element will speak, as the wasm picks it (src/i18n/mod.rs, `pick`):
 * its `lang`, then `<html lang>`, then the browser's, then English. Only used to start
 * fetching that catalogue while the wasm loads; the wasm decides.
 */
function guessLang(el) {
  for (const tag of [el.getAttribute('lang'), document.documentElement.lang, ...navigator.languages]) {
    const primary = (tag || '').trim().split(/[-_]/)[0].toLowerCase();
    if (SPOKEN.includes(primary)) return primary;
  }
  return 'en';
}

// The wasm is fetched and compiled as soon as this module runs, once per page however
// many elements there are (a failure is reported by each element that waits for it).
const ready = init({ module_or_path: WASM }).then(() => initMend(catalogue));
ready.catch(() => {});

/**
 * Starts the element's first status request at once, while the wasm loads: the widget
 * adopts it if it is the request it would make (same URL and session; see
 * `Api::adopt` in src/client.rs) and reads its answer like any other.
 */
function firstStatus(el) {
  const attr = (n) => el.getAttribute(n)?.trim() || '';
  const id = attr('connection-id');
  const session = attr('session');
  if (!/^\d+$/.test(id) || !session) return undefined;
  const url = `${(attr('api-base') || ORIGIN).replace(/\/+$/, '')}/api/v1/connections/${Number(id)}`;
  const auth = `Bearer ${session}`;
  const response = fetch(url, { headers: { Authorization: auth, Accept: 'application/json' } });
  response.catch(() => {});
  return { url, auth, response };
}

export class MendConnection extends HTMLElement {
  static get observedAttributes() {
    return OBSERVED;
  }

  #handle = null;
  #connected = false;

  constructor() {
    super();
    const root = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
    // A stylesheet link, not a <style>: works under a CSP without 'unsafe-inline'.
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = CSS;
    root.append(link);
  }

  connectedCallback() {
    this.#connected = true;
    if (!this.hasAttribute('data-state')) this.setAttribute('data-state', 'loading');
    // A moved element keeps its widget: nothing to fetch.
    const first = this.#handle ? undefined : firstStatus(this);
    if (!this.#handle) catalogue(guessLang(this));
    ready.then(
      () => {
        if (!this.#connected || this.#handle) return;
        this.#handle = new ElementHandle();
        this.#handle.mount(this, this.shadowRoot, ORIGIN, first);
      },
      (err) => {
        console.error('mend: the widget could not be loaded', err);
        this.setAttribute('data-state', 'unavailable');
        this.dispatchEvent(new CustomEvent('mend:error', {
          bubbles: true,
          composed: true,
          detail: {
            connectionId: Number(this.getAttribute('connection-id')),
            code: 'load_failed',
            message: 'The widget could not be loaded.',
          },
        }));
      },
    );
  }

  disconnectedCallback() {
    this.#connected = false;
    // A move (disconnect then connect in the same task) keeps the widget as it is.
    queueMicrotask(() => {
      if (this.#connected || !this.#handle) return;
      this.#handle.unmount();
      this.#handle.free();
      this.#handle = null;
    });
  }

  attributeChangedCallback(name, previous, value) {
    if (this.#handle && previous !== value) this.#handle.setAttribute(name, value);
  }

  /** Fetches the connection's status again. */
  refresh() {
    this.#handle?.refresh();
  }
}

if (!customElements.get('mend-connection')) {
  customElements.define('mend-connection', MendConnection);
}
