#!/usr/bin/env bash
# The demo behind `make demo`: a local MEGA-compatible server (the emulator) with a demo account, a YAML config
# whose password comes from the environment, and a real sync of a generated folder up to MEGA, a change, a
# second sync, the files brought back down and verified byte for byte. Everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
syncer=$PWD/.venv/bin/syncer
demo=$PWD/demo-data
rm -rf "$demo"
mkdir -p "$demo"
export MEGA_PASS
MEGA_PASS=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')   # a throwaway password, never in argv

# the emulator: its account is in a YAML file that reads the password from the environment
printf 'accounts:\n  - email: demo@example.com\n    password: ${MEGA_PASS}\n' > "$demo/emulator.yaml"
"$syncer" mega-emulator --data "$demo/emulator" --config "$demo/emulator.yaml" > "$demo/emulator.out" 2> "$demo/emulator.log" &
emulator=$!
trap 'kill $emulator 2>/dev/null; wait $emulator 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    grep -q '^api_url:' "$demo/emulator.out" 2>/dev/null && break
    sleep 0.1
done
api_url=$(sed -n 's/^api_url: //p' "$demo/emulator.out")
[ -n "$api_url" ] || { echo "the emulator did not start:"; cat "$demo/emulator.log"; exit 1; }

# a folder to keep in step with MEGA
home=$demo/home
mkdir -p "$home/photos/2024/summer" "$home/photos/2025" "$home/docs"
for i in 1 2 3; do head -c $((i * 400000)) /dev/urandom > "$home/photos/2024/summer/img_$i.jpg"; done
head -c 6000000 /dev/urandom > "$home/photos/2025/new year.jpg"
printf 'the quick brown fox\njumps over the lazy dog\n' > "$home/docs/notes.txt"
cat > "$demo/config.yaml" <<EOF
remotes:
  home:
    type: local
    root: $home
  mega:
    type: mega
    user: demo@example.com
    pass: \${MEGA_PASS}
    api_url: $api_url
EOF
export SYNCER_CONFIG=$demo/config.yaml SYNCER_STATE_DIR=$demo/state

step() { printf '\n\033[1m$ syncer %s\033[0m\n' "$*"; "$syncer" "$@"; }
step config show                                # the password shows as ***
step sync -v home: mega:backup                  # first sync: everything uploaded, encrypted
step lsl mega:backup                            # sizes and modification times as MEGA keeps them
step about mega:
echo "a new line" >> "$home/docs/notes.txt"
rm "$home/photos/2024/summer/img_1.jpg"
step sync -v --dry-run home: mega:backup        # what would change; nothing changed
step sync -v home: mega:backup                  # one upload, one file to the Rubbish Bin
step check home: mega:backup --download         # content compared, MACs verified
step sync -v mega:backup "$demo/restored"       # everything back down
printf '\n\033[1m$ diff -r home restored\033[0m\n'
diff -r "$home" "$demo/restored" && echo "identical: every byte came back"
step lsf -R mega:backup --files-only            # a second command: session and tree from the cache
printf '\nexit codes: a missing folder gives 3:\n'
"$syncer" ls mega:no-such-folder || echo "(exit $?)"
