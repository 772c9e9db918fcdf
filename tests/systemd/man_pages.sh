#!/usr/bin/env bash
# The man pages: `man_pages.sh SOURCE_DIR PLEXD`. They render without groff
# warnings (as lintian checks them), plexd(8) names every verb of `plexd --help`,
# and plexd.toml(5) describes every key of the example config.
set -euo pipefail

src=$1
plexd=$2
fail() { echo "FAIL: $*"; exit 1; }

for page in "$src/packaging/man/plexd.8" "$src/packaging/man/plexd.toml.5"; do
  warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
  [ -z "$warnings" ] || fail "$(basename "$page"): $warnings"
done
echo "ok: both pages render without warnings"

# Verbs: the indented words under "Verbs:" in the top-level help.
verbs=$("$plexd" --help | sed -n '/^Verbs:/,/^$/p' | awk 'NR > 1 && NF {print $1}')
[ -n "$verbs" ] || fail "no verbs found in plexd --help"
for verb in $verbs; do
  grep -qE "^\.B $verb\$" "$src/packaging/man/plexd.8" || fail "plexd(8) has no entry for the verb '$verb'"
done
echo "ok: plexd(8) covers the verbs:" $verbs

# Keys: every `key = ...` line, commented or not, of the example config.
keys=$(sed -nE 's/^(# )?([a-z_]+) = .*/\2/p' "$src/packaging/plexd.toml" | sort -u)
[ -n "$keys" ] || fail "no keys found in packaging/plexd.toml"
for key in $keys; do
  grep -qE "^\.B $key\$" "$src/packaging/man/plexd.toml.5" || fail "plexd.toml(5) does not describe '$key'"
done
echo "ok: plexd.toml(5) describes all $(wc -w <<<"$keys") keys"
