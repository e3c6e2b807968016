// The plain-HTML host of e2e/frameworks.test.mjs: no framework, the DOM API only, as
// the README's plain-HTML guide shows. The test drives it through `window.host`:
// render({ shown, session, list }) adds, updates or removes the element
// (<mend-connections> when `list`).
const app = document.getElementById('app');
let el = null;

function log(event) {
  window.hostEvents.push({ type: event.type, detail: event.detail });
}

function render({ shown, session, list = false }) {
  if (!shown || (el && (el.localName === 'mend-connections') !== list)) {
    el?.closest('section')?.remove();
    el = null;
    if (!shown) return;
  }
  if (!el && list) {
    // The whole app's banner: the entries' events bubble out of it; follow 104.
    const section = document.createElement('section');
    section.setAttribute('aria-label', 'Bank connections');
    const state = document.createElement('p');
    state.id = 'host-state';
    state.textContent = 'loading';
    const resolved = document.createElement('p');
    resolved.id = 'host-resolved';
    resolved.textContent = '0';
    el = document.createElement('mend-connections');
    el.setAttribute('theme', 'light');
    el.addEventListener('mend:state', (e) => {
      log(e);
      if (e.detail.connectionId === 104) state.textContent = e.detail.state ?? 'ok';
    });
    el.addEventListener('mend:resolved', (e) => {
      log(e);
      resolved.textContent = String(Number(resolved.textContent) + 1);
    });
    el.addEventListener('mend:error', log);
    el.addEventListener('mend:session-expired', log);
    el.setAttribute('session', session);
    section.append(state, resolved, el);
    app.append(section);
  } else if (!el) {
    const section = document.createElement('section');
    section.setAttribute('aria-label', 'Bank connection');
    const state = document.createElement('p');
    state.id = 'host-state';
    state.textContent = 'loading';
    const resolved = document.createElement('p');
    resolved.id = 'host-resolved';
    resolved.textContent = '0';
    el = document.createElement('mend-connection');
    el.setAttribute('connection-id', '104');
    el.setAttribute('theme', 'light');
    el.addEventListener('mend:state', (e) => {
      log(e);
      state.textContent = e.detail.state ?? 'ok';
    });
    el.addEventListener('mend:resolved', (e) => {
      log(e);
      resolved.textContent = String(Number(resolved.textContent) + 1);
    });
    el.addEventListener('mend:error', log);
    el.addEventListener('mend:session-expired', log);
    el.setAttribute('session', session);
    section.append(state, resolved, el);
    app.append(section);
  } else {
    el.setAttribute('session', session);
  }
}

window.hostEvents = [];
window.host = { render };
