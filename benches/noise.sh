#!/bin/bash
# What moves a reference's time on this VM: transparent huge pages and the page cache.
#
#   sudo benches/noise.sh PYTHON WORLD_DIR [PAIRS]
#
# Runs benches/reference/polars_sklearn.py on WORLD_DIR as interleaved pairs (PAIRS, default 3):
# first THP `always` against `madvise`, then a cold page cache (dropped) against a warm one
# (the world's files read first). Prints one line per run: condition, wall s, user s, sys s,
# peak KiB (GNU time). Needs root (it writes /sys/kernel/mm/transparent_hugepage/enabled and
# /proc/sys/vm/drop_caches) and puts THP back to the setting it found.
set -euo pipefail
python=$1 world=$2 pairs=${3:-3}
cd "$(dirname "$0")/reference"
thp=/sys/kernel/mm/transparent_hugepage/enabled
was=$(sed 's/.*\[\(.*\)\].*/\1/' "$thp")
trap 'echo "$was" > "$thp"' EXIT
run() {
  local out
  out=$( { /usr/bin/time -f "%e %U %S %M" "$python" polars_sklearn.py "$world" > /dev/null; } 2>&1 | tail -1)
  echo "$1 $out"
}
for _ in $(seq "$pairs"); do
  echo always > "$thp"; run thp-always
  echo madvise > "$thp"; run thp-madvise
done
echo "$was" > "$thp"
for _ in $(seq "$pairs"); do
  sync; echo 3 > /proc/sys/vm/drop_caches; run cold-cache
  cat "$world"/* > /dev/null; run warm-cache
done
