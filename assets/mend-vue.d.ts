// Types of <mend-connection> and <mend-connections> in Vue 3 (served next to mend.js at
// /widget/mend-vue.d.ts, with mend.d.ts which it imports). In a Vue host:
//   /// <reference path="./mend-vue.d.ts" />
// Vue's template type-checking (vue-tsc, Volar) then knows its attributes and its
// `@mend:…` events. Tell Vue's compiler it is a custom element:
//   compilerOptions.isCustomElement = (tag) => tag.startsWith('mend-')

import type { DefineComponent } from 'vue';
import type { MendConnectionAttributes, MendConnectionsAttributes, MendEventMap } from './mend';

/** The events of `<mend-connection>` (and of `<mend-connections>`, from its entries), as Vue's `emits`. */
export type MendConnectionEmits = {
  'mend:state': (event: MendEventMap['mend:state']) => void;
  'mend:resolved': (event: MendEventMap['mend:resolved']) => void;
  'mend:redirect': (event: MendEventMap['mend:redirect']) => void;
  'mend:session-expired': (event: MendEventMap['mend:session-expired']) => void;
  'mend:error': (event: MendEventMap['mend:error']) => void;
};

/** `<mend-connection>` as Vue sees a component: its attributes as props, its events. */
export type MendConnectionComponent = DefineComponent<
  MendConnectionAttributes,
  {},
  {},
  {},
  {},
  {},
  {},
  MendConnectionEmits
>;

/** `<mend-connections>` as Vue sees a component. */
export type MendConnectionsComponent = DefineComponent<
  MendConnectionsAttributes,
  {},
  {},
  {},
  {},
  {},
  {},
  MendConnectionEmits
>;

declare module 'vue' {
  interface GlobalComponents {
    'mend-connection': MendConnectionComponent;
    'mend-connections': MendConnectionsComponent;
  }
}
