#!/usr/bin/env bash
# Benchmark: `veille poll` over N generated job feeds (20 offers each) served
# from 127.0.0.1: a cold cycle (empty store) and an unchanged cycle (every
# feed answers 304), with wall time, CPU time (user + system: steadier than
# wall time on a busy machine) and peak RSS (GNU time).
#
#   bench/poll.sh [N ...]        default: 1000
#   VEILLE=path/to/veille bench/poll.sh ...   to time another build
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet --bin veille --example bench_server
veille=${VEILLE:-./target/release/veille}
out=bench-out
mkdir -p "$out"
printf '| N feeds | cycle | wall (s) | CPU (s) | peak RSS (MB) | new offers |\n|---|---|---|---|---|---|\n'
for n in "${@:-1000}"; do
    rm -rf "$out/state" "$out/port"
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
        printf '\n[[profile]]\nname = "bob"\nkeywords = ["data", "développeur"]\nlocations = ["Paris", "remote"]\n'
    } > "$out/veille.toml"
    for cycle in cold unchanged; do
        /usr/bin/time -f '%e %U %S %M' -o "$out/time" "$veille" -q --config "$out/veille.toml" poll --json > "$out/offers.jsonl"
        read -r wall user sys kb < "$out/time"
        printf '| %d | %s | %s | %.2f | %.1f | %d |\n' "$n" "$cycle" "$wall" "$(awk "BEGIN{print $user+$sys}")" "$(awk "BEGIN{print $kb/1024}")" "$(wc -l < "$out/offers.jsonl")"
    done
    kill $server 2>/dev/null || true
    wait $server 2>/dev/null || true
done
