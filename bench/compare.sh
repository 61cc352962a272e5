#!/usr/bin/env bash
# veille vs rss2email 3.14, side by side on the same N generated job feeds
# (20 offers each, French and English) served from 127.0.0.1: a cold cycle
# (empty state) and an unchanged cycle (every feed answers 304), with wall
# time and peak RSS (GNU time). rss2email runs `r2e run --no-send` from a
# virtualenv this script creates (PyPI).
#
#   bench/compare.sh [N ...]      default: 1000
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
out=bench-out/compare
venv=bench-out/venv
mkdir -p "$out"
[ -x "$venv/bin/r2e" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q rss2email==3.14; }
cargo build --release --quiet --bin veille --example bench_server

measure() { # label, command...
    local label=$1; shift
    /usr/bin/time -f '%e %M' -o "$out/time" "$@" > /dev/null 2> "$out/$label.log"
    read -r wall kb < "$out/time"
    echo "$wall $((kb / 1024))"
}

printf '| N | tool | cold (s) | cold peak RSS (MB) | unchanged (s) | unchanged peak RSS (MB) |\n|---|---|---|---|---|---|\n'
for n in "${@:-1000}"; do
    rm -rf "$out/state" "$out/port" "$out/r2e.json"
    ./target/release/examples/bench_server "$n" "$out/port" & server=$!
    trap 'kill $server 2>/dev/null || true' EXIT
    while [ ! -s "$out/port" ]; do sleep 0.05; done
    port=$(cat "$out/port")
    {
        printf '[daemon]\nstate_dir = "state"\nper_host_delay = "0s"\nconcurrency = 32\ntimezone = "UTC"\n\n'
        for ((i = 0; i < n; i++)); do
            printf '[[board]]\nname = "b%d"\nfeed = "http://127.0.0.1:%s/feeds/%d.rss"\n' "$i" "$port" "$i"
        done
        printf '\n[[profile]]\nname = "alice"\nquery = %s(rust OR alternance OR stage OR intern) -senior%s\n' "'" "'"
        printf '[[profile.notify]]\nmaildir = "Maildir"\n'
    } > "$out/veille.toml"
    {
        printf '[DEFAULT]\nto = bench@example.org\nfrom = bench@example.org\n\n'
        for ((i = 0; i < n; i++)); do
            printf '[feed.b%d]\nurl = http://127.0.0.1:%s/feeds/%d.rss\n\n' "$i" "$port" "$i"
        done
    } > "$out/r2e.cfg"
    v_cold=$(measure veille-cold ./target/release/veille -q --config "$out/veille.toml" poll --json)
    v_warm=$(measure veille-unchanged ./target/release/veille -q --config "$out/veille.toml" poll --json)
    r_cold=$(measure r2e-cold "$venv/bin/r2e" -c "$out/r2e.cfg" -d "$out/r2e.json" run --no-send)
    r_warm=$(measure r2e-unchanged "$venv/bin/r2e" -c "$out/r2e.cfg" -d "$out/r2e.json" run --no-send)
    read -r vc vcm <<< "$v_cold"; read -r vw vwm <<< "$v_warm"
    read -r rc rcm <<< "$r_cold"; read -r rw rwm <<< "$r_warm"
    printf '| %d | veille | %s | %s | %s | %s |\n' "$n" "$vc" "$vcm" "$vw" "$vwm"
    printf '| %d | rss2email 3.14 | %s | %s | %s | %s |\n' "$n" "$rc" "$rcm" "$rw" "$rwm"
    printf '| %d | ratio | %s× | | %s× | |\n' "$n" "$(awk "BEGIN{printf \"%.0f\", $rc/$vc}")" "$(awk "BEGIN{printf \"%.0f\", $rw/$vw}")"
    kill $server 2>/dev/null || true
    wait $server 2>/dev/null || true
done
