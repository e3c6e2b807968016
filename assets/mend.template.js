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

let ready = null;
/** Loads and starts the wasm once per page, however many elements there are. */
export function whenReady() {
  if (!ready) {
    ready = init({ module_or_path: WASM }).then(() => initMend());
  }
  return ready;
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
    whenReady().then(
      () => {
        if (!this.#connected || this.#handle) return;
        this.#handle = new ElementHandle();
        this.#handle.mount(this, this.shadowRoot, ORIGIN);
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
