#!/usr/bin/env bash
# The demo behind `make demo`: a generated tree, a YAML config with two local remotes, and the file commands
# run on them by the installed `syncer`: sync, check, debris, filters. (A MEGA sync once the emulator lands.)
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
step sync -v home: backup:                      # first sync: everything copied
step check home: backup:                        # same files both sides
echo "a new line" >> "$home/docs/notes.txt"
rm "$home/photos/2024/summer/img_1.jpg"
step sync -v --dry-run home: backup:            # what would change, nothing changed
step sync -v home: backup:                      # replaced and deleted files go to the debris
step tree -a backup:
step lsf -R --format pst --exclude '*.jpg' backup:
step copyto -vv home:docs/notes.txt backup:docs/notes.txt   # identical now: skipped
step size backup:
step cleanup --older-than 30d backup:           # debris younger than 30 days is kept
printf '\nexit codes: a missing folder gives 3:\n'
"$syncer" ls home:no-such-folder || echo "(exit $?)"
