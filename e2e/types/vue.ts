// A Vue 3 host without single-file components: <mend-connection> rendered with `h`,
// its attributes as props, its events as `onMend:…` listeners; and the component
// Vue's template checker (vue-tsc, Volar) sees. Every `@ts-expect-error` is a
// mistake the types must catch.
/// <reference path="../../assets/mend-vue.d.ts" />

import { defineComponent, h, ref, type GlobalComponents } from 'vue';
import type { MendConnection, MendStateDetail } from '../../assets/mend';

export const BankConnection = defineComponent({
  props: { id: { type: Number, required: true }, session: { type: String, required: true } },
  setup(props) {
    const el = ref<MendConnection | null>(null);
    const state = ref<string | null>(null);
    return () =>
      h('section', { 'aria-label': 'Bank' }, [
        h('mend-connection', {
          ref: el,
          'connection-id': props.id,
          session: props.session,
          lang: 'de',
          'onMend:state': (e: CustomEvent<MendStateDetail>) => {
            state.value = e.detail.state;
          },
        }),
        h('button', { type: 'button', onClick: () => el.value?.refresh() }, 'Refresh'),
      ]);
  },
});

// What a template's <mend-connection …> is checked against.
type MendInTemplate = InstanceType<GlobalComponents['mend-connection']>['$props'];
export const ok: MendInTemplate = { 'connection-id': 42, session: 'eyJ…', theme: 'auto' };
// @ts-expect-error: session is required
export const noSession: MendInTemplate = { 'connection-id': 42 };
// @ts-expect-error: not a theme
export const badTheme: MendInTemplate = { 'connection-id': 42, session: 's', theme: 'pink' };
export const listens: MendInTemplate = {
  'connection-id': 42,
  session: 's',
  'onMend:redirect': (e) => {
    const url: string = e.detail.url;
    console.log(url);
  },
};

// What a template's <mend-connections …> is checked against.
type ListInTemplate = InstanceType<GlobalComponents['mend-connections']>['$props'];
export const list: ListInTemplate = { session: 'eyJ…', lang: 'nl', 'onMend:resolved': (e) => console.log(e.detail.connectionId) };
// @ts-expect-error: session is required
export const listNoSession: ListInTemplate = { lang: 'nl' };
