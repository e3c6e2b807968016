#!/bin/sh
# Sizes of the element's files in a built dist/ (raw and gzip -9), against the budget
# of 110 KB gzip for wasm + js + css. Usage: sh assets/sizes.sh [dist]
set -eu
dist=${1:-dist}
total_raw=0
total_gz=0
printf '| file | raw (bytes) | gzip -9 (bytes) |\n|---|---:|---:|\n'
for f in "$dist"/mend.js "$dist"/mend-element-*.js "$dist"/mend-element-*_bg.wasm "$dist"/mend-????????????????.css; do
  [ -f "$f" ] || continue
  raw=$(wc -c <"$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  total_raw=$((total_raw + raw))
  total_gz=$((total_gz + gz))
  printf '| `%s` | %s | %s |\n' "$(basename "$f")" "$raw" "$gz"
done
printf '| **total** | **%s** | **%s** (budget 112,640 = 110 KB) |\n' "$total_raw" "$total_gz"
