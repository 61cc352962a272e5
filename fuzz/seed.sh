#!/usr/bin/env bash
# Builds each target's starting corpus (fuzz/corpus/TARGET, not committed)
# from ../shared/corpus and the test fixtures. The first byte of an input
# picks a variant (content type, ATS vendor), so each file is seeded once
# per useful first byte.
set -euo pipefail
cd "$(dirname "$0")"
shared=../../shared/corpus
out=corpus
mkdir -p "$out"/{feed,page,ats,query,watchlist}

seed() { # target first-byte file
    local name
    name=$(printf '%s-%02x' "$(basename "$3")" "$2")
    { printf "\\x$(printf %02x "$2")"; cat "$3"; } > "$out/$1/$name"
}

for f in "$shared"/feeds/* "$shared"/feeds-malformed/* "$shared"/json-feeds/* \
         "$shared"/microblog/* ../tests/fixtures/*.rss ../tests/fixtures/*.atom; do
    [ -f "$f" ] || continue
    for b in 0 1 2 3; do seed feed $b "$f"; done
done
while IFS= read -r -d '' f; do
    for b in 0 128; do seed page $b "$f"; done
done < <(find "$shared"/jobposting-html ../tests/fixtures/pages -type f -print0)
# ats::ALL order: greenhouse lever ashby workable recruitee smartrecruiters personio
vendors=(greenhouse lever ashby workable recruitee smartrecruiters personio)
for i in "${!vendors[@]}"; do
    for f in "$shared"/ats/"${vendors[$i]}"/* ../tests/fixtures/ats/"${vendors[$i]}"/*; do
        [ -f "$f" ] && seed ats "$i" "$f"
    done
done
i=0
for q in 'rust' '(rust OR go) -java' 'title:"stage développeur" NOT senior' 'dev* c++ c# .net node.js' \
         'développeur·se bac+5' 'company:(acme OR "big corp") location:lyon' '-(a b) OR NOT c'; do
    printf '%s' "$q" > "$out/query/q$i"; i=$((i + 1))
done
cp ../config/veille.example.toml "$out/watchlist/example.toml"
find ../tests -name '*.toml' -exec cp {} "$out/watchlist/" \; 2>/dev/null || true
for t in feed page ats query watchlist; do echo "$t: $(ls "$out/$t" | wc -l) seeds"; done
