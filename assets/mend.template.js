// <mend-connection> and <mend-connections>: the Mend widget as custom elements.
//
// Generated at build time from assets/mend.template.js by assets/post-build.sh,
// which fills in the content-hashed names of the wasm, its JS glue and the CSS
// (cached for a year; this file for minutes: docs/widget.md, "Loading"). Embed with:
//   <script type="module" src="https://proxy.example/widget/mend.js"></script>
//   <mend-connection connection-id="42" session="eyJ…"></mend-connection>
const GLUE = new URL('./__MEND_GLUE__', import.meta.url).href;
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

/**
 * Compiles the wasm as it downloads, handed the fetch itself so that nothing waits for
 * the main thread in between (whole, then compiled, if not sent as application/wasm).
 */
async function compile(fetched) {
  try {
    return await WebAssembly.compileStreaming(fetched);
  } catch (e) {
    const response = await fetched;
    if (!response.ok) throw new Error(`HTTP ${response.status} fetching ${response.url}`);
    if (response.headers.get('content-type')?.split(';')[0].trim() === 'application/wasm') throw e;
    return WebAssembly.compile(await response.arrayBuffer());
  }
}

// Once per page, at once and together: the glue (imported dynamically, so the element
// is defined and sends its request without waiting for it) and the wasm. A failure is
// reported by each element that waits for them.
const ready = Promise.all([import(GLUE), compile(fetch(WASM))]).then(async ([glue, module]) => {
  await glue.default({ module_or_path: module });
  glue.initMend(catalogue);
  return glue;
});
ready.catch(() => {});

let warmed = false;

/**
 * Once per page, after the requests are sent: a date through `Intl`, as the widget
 * formats them. The page's first `Intl` call loads the locale data (tens of ms): here
 * it overlaps the network and the compile instead of delaying the first panel.
 */
function warmIntl(lang) {
  if (warmed) return;
  warmed = true;
  queueMicrotask(() => {
    try {
      new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format();
    } catch { /* only a head start */ }
  });
}

/**
 * Starts the element's first status request at once, while the wasm loads: the widget
 * adopts it if it is the request it would make (same URL and session; see
 * `Api::adopt` in src/client/) and reads its answer like any other.
 */
function firstStatus(el) {
  const attr = (n) => el.getAttribute(n)?.trim() || '';
  const id = attr('connection-id');
  const session = attr('session');
  // A list's entry gets the status the list read.
  if (!/^\d+$/.test(id) || !session || el.getRootNode().host?.localName === 'mend-connections') return undefined;
  const url = `${(attr('api-base') || ORIGIN).replace(/\/+$/, '')}/api/v1/connections/${Number(id)}`;
  const auth = `Bearer ${session}`;
  const response = fetch(url, { headers: { Authorization: auth, Accept: 'application/json' } });
  const first = { url, auth, response };
  // A 2xx answer's text as soon as it is in: the widget then mounts straight into its
  // state (`client::answered` in src/client/). `read` settles either way.
  first.read = response.then((r) => r.ok && r.clone().text().then((t) => { first.text = t; })).catch(() => {});
  return first;
}

// How long a widget whose first status is on its way waits for it before it shows its
// loading panel: below what a user perceives as a wait.
const FIRST_WAIT_MS = 300;

// JS properties mirroring attributes (React 19 sets a prop the element has as such).
const PROPS = { session: 'session', apiBase: 'api-base', redirectUri: 'redirect-uri', theme: 'theme' };

function mirror(cls) {
  for (const [prop, attr] of Object.entries(PROPS)) {
    Object.defineProperty(cls.prototype, prop, {
      configurable: true,
      get() { return this.getAttribute(attr); },
      set(v) { if (v == null) this.removeAttribute(attr); else this.setAttribute(attr, v); },
    });
  }
}

// Replays a property set before the upgrade (it hides the accessor).
function upgradeProps(el) {
  for (const prop of Object.keys(PROPS)) {
    if (Object.hasOwn(el, prop)) {
      const v = el[prop];
      delete el[prop];
      el[prop] = v;
    }
  }
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
    upgradeProps(this);
    if (!this.hasAttribute('data-state')) this.setAttribute('data-state', 'loading');
    // A moved element keeps its widget: nothing to fetch.
    const first = this.#handle ? undefined : firstStatus(this);
    if (!this.#handle) {
      const lang = guessLang(this);
      catalogue(lang);
      warmIntl(lang);
    }
    ready.then(
      async (glue) => {
        // Not before the first answer, for up to FIRST_WAIT_MS: the view is then built
        // once, in its state, instead of in its loading panel and then again.
        if (first) await Promise.race([first.read, new Promise((r) => { setTimeout(r, FIRST_WAIT_MS); })]);
        if (!this.#connected || this.#handle) return;
        this.#handle = new glue.ElementHandle();
        this.#handle.mount(this, this.shadowRoot, ORIGIN, first);
      },
      (err) => {
        console.error('mend: the widget could not be loaded', err);
        this.setAttribute('data-state', 'unavailable');
        this.dispatchEvent(new CustomEvent('mend:error', {
          bubbles: true,
          composed: true,
          detail: {
            connectionId: this.hasAttribute('connection-id') ? Number(this.getAttribute('connection-id')) : null,
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

mirror(MendConnection); // and so MendConnections, below

// <mend-connections>: the banner for the whole app, its entries <mend-connection>s in
// its shadow root. The same element; the wasm mounts a list for its tag (src/list/).
export class MendConnections extends MendConnection {
  static get observedAttributes() {
    return ['session', 'api-base', 'redirect-uri', 'lang', 'theme'];
  }
}

if (!customElements.get('mend-connection')) {
  customElements.define('mend-connection', MendConnection);
}
if (!customElements.get('mend-connections')) {
  customElements.define('mend-connections', MendConnections);
}
