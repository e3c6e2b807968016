// The Vue 3 host of e2e/frameworks.test.mjs: an app rendering the single-file component
// BankConnection.vue (which holds <mend-connection>) or BankConnections.vue (which
// holds <mend-connections>) while `shown`. The test drives it
// through `window.host`: render({ shown, session }) updates the app's reactive props.
// Bundled by esbuild in the test, the .vue file compiled by Vue's own compiler-sfc;
// this file is type-checked by e2e/types.test.mjs.
/// <reference path="../../assets/mend-vue.d.ts" />

import { createApp, h, reactive } from 'vue';
import BankConnection from './BankConnection.vue';
import BankConnections from './BankConnections.vue';
import type { HostControls, HostProps } from './host';

const props = reactive<HostProps>({ shown: false, session: '' });
createApp({
  setup: () => () =>
    h('main', [
      !props.shown
        ? h('p', 'No widget')
        : props.list
          ? h(BankConnections, { session: props.session })
          : h(BankConnection, { id: 104, session: props.session }),
    ]),
}).mount('#app');

const controls: HostControls = {
  render(next) {
    Object.assign(props, next);
  },
};
window.hostEvents = [];
window.host = controls;
