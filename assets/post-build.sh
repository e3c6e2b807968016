#!/bin/sh
# Trunk post_build hook: gives the element's files content-hashed names, writes
# mend.js (the stable entry point, cached for minutes) from assets/mend.template.js and, on
# release builds, minifies it and the stylesheet (assets/minify.mjs) and writes brotli and gzip copies of
# every file (assets/compress.mjs), which mend-proxy serves by Accept-Encoding. Dev
# builds (`trunk serve`) skip both:
# brotli at quality 11 on a multi-megabyte debug wasm would slow every rebuild. The
# language catalogues (i18n/<lang>.json, copied by Trunk) become mend-<lang>-<hash>.json.
#
# Trunk builds the element's wasm as a "worker" (its only way to build a second wasm
# without loading it into index.html), and workers get no hash: we add one here.
set -eu
cd "${TRUNK_STAGING_DIR:?run by trunk}"

hash() { cat "$@" | sha256sum | cut -c1-16; }

[ -f mend-element.js ] && [ -f mend-element_bg.wasm ] && [ -f mend.css ] || {
  echo "post-build: mend-element.js, mend-element_bg.wasm or mend.css missing in $PWD" >&2
  exit 1
}

h=$(hash mend-element_bg.wasm mend-element.js)
mv mend-element.js "mend-element-$h.js"
mv mend-element_bg.wasm "mend-element-${h}_bg.wasm"
c=$(hash mend.css)
mv mend.css "mend-$c.css"

catalogues=""
for f in i18n/*.json; do
  lang=$(basename "$f" .json)
  name="mend-$lang-$(hash "$f").json"
  mv "$f" "$name"
  catalogues="$catalogues${catalogues:+,}\"$lang\":\"$name\""
done
rmdir i18n

sed -e "s/__MEND_GLUE__/mend-element-$h.js/" \
    -e "s|__MEND_CATALOGUES__|{$catalogues}|" \
    -e "s/__MEND_WASM__/mend-element-${h}_bg.wasm/" \
    -e "s/__MEND_CSS__/mend-$c.css/" \
    "${TRUNK_SOURCE_DIR:?}/assets/mend.template.js" > mend.js
# The TypeScript declarations, next to mend.js under stable names.
cp "${TRUNK_SOURCE_DIR:?}/assets/mend.d.ts" "${TRUNK_SOURCE_DIR:?}/assets/mend-react.d.ts" \
   "${TRUNK_SOURCE_DIR:?}/assets/mend-vue.d.ts" .
echo "post-build: mend.js -> mend-element-$h.js, mend-element-${h}_bg.wasm, mend-$c.css"

if [ "${TRUNK_PROFILE:-}" = release ]; then
  node "$TRUNK_SOURCE_DIR/assets/minify.mjs" mend.js "mend-$c.css"
  node "$TRUNK_SOURCE_DIR/assets/compress.mjs" .
fi
