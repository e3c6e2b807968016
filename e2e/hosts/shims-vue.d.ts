// What tsc knows of a .vue import (it cannot read single-file components; vue-tsc can).
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<{ id?: number; session: string }>;
  export default component;
}
