// TypeScript declarations (assets/mend.d.ts, mend-react.d.ts, mend-vue.d.ts, shipped
// next to mend.js): small host programs in e2e/types/ (plain DOM, React 19 TSX, Vue 3
// without SFCs) and the framework hosts that e2e/frameworks.test.mjs runs (e2e/hosts/,
// but for the .vue file, which tsc cannot read) type-check against them with
// `tsc --noEmit`, and each mistake marked
// `@ts-expect-error` there is caught (tsc fails on an expected error that is not). A
// plain host with neither React nor Vue installed type-checks mend.d.ts alone.
// (Not a browser test: it needs neither the proxy nor Chromium.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
const DECLARATIONS = ['mend.d.ts', 'mend-react.d.ts', 'mend-vue.d.ts'];

function typecheck(project) {
  const r = spawnSync(process.execPath, [tsc, '--pretty', 'false', '-p', project], {
    cwd: path.dirname(project),
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.error, undefined, `tsc did not run: ${r.error}`);
  return r;
}

test('plain, React 19 and Vue 3 host programs type-check against the declarations', () => {
  const r = typecheck(path.join(here, 'types/tsconfig.json'));
  assert.equal(r.status, 0, `tsc --noEmit failed:\n${r.stdout}${r.stderr}`);
});

test('a host with neither React nor Vue type-checks mend.d.ts alone, and a wrong use is refused', () => {
  // Out of the repository: no node_modules above it, so no React or Vue types.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mend-types-'));
  try {
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.mkdirSync(path.join(dir, 'e2e/types'), { recursive: true });
    fs.copyFileSync(path.join(root, 'assets/mend.d.ts'), path.join(dir, 'assets/mend.d.ts'));
    fs.copyFileSync(path.join(here, 'types/plain.ts'), path.join(dir, 'e2e/types/plain.ts'));
    // Not vacuous: a detail read with the wrong type must fail.
    fs.writeFileSync(
      path.join(dir, 'e2e/types/wrong.ts'),
      '/// <reference path="../../assets/mend.d.ts" />\n' +
        "document.createElement('mend-connection').addEventListener('mend:redirect', (e) => {\n" +
        '  const n: number = e.detail.url;\n  console.log(n);\n});\nexport {};\n',
    );
    const config = JSON.parse(fs.readFileSync(path.join(here, 'types/tsconfig.json'), 'utf8'));
    config.files = ['plain.ts', 'wrong.ts'];
    fs.writeFileSync(path.join(dir, 'e2e/types/tsconfig.json'), JSON.stringify(config));
    const r = typecheck(path.join(dir, 'e2e/types/tsconfig.json'));
    const errors = r.stdout.split('\n').filter((l) => l.includes('error TS'));
    assert.deepEqual(
      errors,
      ["wrong.ts(3,9): error TS2322: Type 'string' is not assignable to type 'number'."],
      r.stdout + r.stderr,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the build ships the declarations next to mend.js', { skip: !process.env.MEND_WIDGET_DIR && !fs.existsSync(path.join(root, 'dist/mend.js')) }, () => {
  const dist = process.env.MEND_WIDGET_DIR ?? path.join(root, 'dist');
  assert.ok(fs.existsSync(path.join(dist, 'mend.js')), `${dist}/mend.js`);
  for (const name of DECLARATIONS) {
    assert.equal(
      fs.readFileSync(path.join(dist, name), 'utf8'),
      fs.readFileSync(path.join(root, 'assets', name), 'utf8'),
      `${dist}/${name} is assets/${name}`,
    );
  }
});
