// Writes a brotli (quality 11) and a gzip (level 9) copy next to every compressible
// file of a built widget folder: `x.wasm` -> `x.wasm.br`, `x.wasm.gz`. mend-proxy
// serves them by the request's Accept-Encoding (crates/proxy/src/widget.rs).
//
// Run by assets/post-build.sh on release builds, so `trunk build --release` alone
// produces them. Brotli comes from node's zlib (node is already required: npm's
// wasm-opt is a node script). Gzip comes from GNU gzip when it is there (Debian always
// has it): node's zlib is Chromium's fork, whose level 9 made the wasm 4.5 % bigger
// (104,761 against 100,221 B); node's zlib is the fallback. Output is deterministic:
// same input, same bytes (`gzip -n` writes no name or time stamp).
//
// Usage: node assets/compress.mjs <folder>
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';
import { readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const COMPRESSIBLE = /\.(js|mjs|css|html|wasm|json|svg|txt)$/;
const TEXT = /\.(js|mjs|css|html|json|svg|txt)$/;

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(p);
    else if (entry.isFile() && COMPRESSIBLE.test(entry.name)) yield p;
  }
}

function brotli(data, text) {
  return brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_MODE]: text ? constants.BROTLI_MODE_TEXT : constants.BROTLI_MODE_GENERIC,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
}

function gzip(data) {
  const r = spawnSync('gzip', ['-9', '-n', '-c'], { input: data, maxBuffer: 1 << 30 });
  if (r.status === 0 && r.stdout.length > 0) return r.stdout;
  return gzipSync(data, { level: 9 });
}

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node assets/compress.mjs <folder>');
  process.exit(2);
}
let count = 0;
for (const file of files(dir)) {
  const data = readFileSync(file);
  const copies = [
    ['br', brotli(data, TEXT.test(file))],
    ['gz', gzip(data)],
  ];
  const sizes = [];
  for (const [ext, bytes] of copies) {
    const out = `${file}.${ext}`;
    // A copy no smaller than the file is useless: the proxy then serves the file itself.
    if (bytes.length < data.length) {
      writeFileSync(out, bytes);
      sizes.push(`${ext} ${bytes.length}`);
    } else {
      rmSync(out, { force: true });
      sizes.push(`${ext} skipped`);
    }
  }
  count += 1;
  console.log(`compress: ${path.relative(dir, file)} ${data.length} -> ${sizes.join(', ')}`);
}
console.log(`compress: ${count} file(s) in ${dir}`);
