// Minifies the element's entry point (mend.js, written by assets/post-build.sh from
// assets/mend.template.js) and its stylesheet (style/mend.css) in place, with esbuild
// from node_modules, as Trunk does the glue on release builds: the sources' comments
// are for their readers, not for every browser that loads them (about 1.2 KB of
// brotli for mend.js, 0.4 KB for the CSS). Deterministic: same input, same bytes.
// Without esbuild (no `npm ci`), the files are left as they are, with a warning.
//
// Usage: node assets/minify.mjs <file.js|file.css>...
import { readFileSync, writeFileSync } from 'node:fs';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node assets/minify.mjs <file.js|file.css>...');
  process.exit(2);
}
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn(`minify: esbuild not found (run \`npm ci\`): ${files.join(', ')} left unminified`);
  process.exit(0);
}
for (const file of files) {
  const css = file.endsWith('.css');
  const source = readFileSync(file, 'utf8');
  const { code } = esbuild.transformSync(source, {
    loader: css ? 'css' : 'js',
    ...(css ? {} : { format: 'esm' }),
    minify: true,
    legalComments: 'none',
    banner: css
      ? '/* Mend widget styles (minified from style/mend.css: theming is documented there) */'
      : '// Mend widget (minified from assets/mend.template.js)',
  });
  writeFileSync(file, code);
  console.log(`minify: ${file} ${source.length} -> ${code.length}`);
}
