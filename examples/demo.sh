#!/usr/bin/env bash
# The demo behind `make demo`: a generated tree, a YAML config with two local remotes, and the file commands
# run on them by the installed `syncer`. (It grows into a MEGA sync once the emulator lands.)
set -euo pipefail
cd "$(dirname "$0")/.."
syncer=.venv/bin/syncer
demo=$PWD/demo-data
rm -rf "$demo"
home=$demo/home
mkdir -p "$home/photos/2024/summer" "$home/photos/2025" "$home/docs"
for i in 1 2 3; do head -c $((i * 40000)) /dev/urandom > "$home/photos/2024/summer/img_$i.jpg"; done
head -c 120000 /dev/urandom > "$home/photos/2025/new year.jpg"
printf 'the quick brown fox\njumps over the lazy dog\n' > "$home/docs/notes.txt"
printf 'remotes:\n  home:\n    type: local\n    root: %s\n  backup:\n    type: local\n    root: %s/backup\n' \
    "$home" "$demo" > "$demo/config.yaml"
export SYNCER_CONFIG="$demo/config.yaml"

step() { printf '\n\033[1m$ syncer %s\033[0m\n' "$*"; "$syncer" "$@"; }
step config show
step tree home:photos
step lsl home:photos
step size home:photos
step copyto -v home:docs/notes.txt backup:docs/notes.txt
step copyto -vv home:docs/notes.txt backup:docs/notes.txt     # identical now: skipped
step cat --head 20 backup:docs/notes.txt
echo
step lsjson -R backup:
step moveto -v "home:photos/2025/new year.jpg" "backup:photos/2025/new year.jpg"
step rmdirs -v --leave-root home:photos
step lsf -R --format pst home:
step about home:
printf '\nexit codes: a missing folder gives 3:\n'
"$syncer" ls home:no-such-folder || echo "(exit $?)"
