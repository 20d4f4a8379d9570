#!/usr/bin/env bash
# Seeds per second of a sweep, this checkout against another revision, side by side.
#
#   benches/compare-revisions.sh REV [SCENARIO] [PROFILE] [SEEDS_PER_BATCH] [ROUNDS]
#   benches/compare-revisions.sh 559c76a money-transfer chaos 1000 5
#
# Builds REV's `sim` (release) in a temporary git worktree that shares this checkout's target
# directory (dependencies are not rebuilt), then alternates batches of the two binaries on the
# same seeds (`--jobs 1`, pinned to one core with `taskset` when it exists) and prints each round's seeds/s and the new/old ratio,
# then the medians. Alternating rounds put host speed changes on both sides alike.
set -euo pipefail
rev=${1:?usage: compare-revisions.sh REV [SCENARIO] [PROFILE] [SEEDS_PER_BATCH] [ROUNDS]}
scenario=${2:-money-transfer}
profile=${3:-chaos}
batch=${4:-1000}
rounds=${5:-5}
root=$(git rev-parse --show-toplevel)
target=${CARGO_TARGET_DIR:-$root/target}
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/tree" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

git -C "$root" worktree add --detach "$work/tree" "$rev" >/dev/null
(cd "$work/tree" && CARGO_TARGET_DIR=$target cargo build --release --bin sim >&2)
cp "$target/release/sim" "$work/sim-old"
# The worktree's sources were just written, so they are newer than this checkout's: cargo, which
# compares modification times, would take the old build for this checkout's and keep the old
# binary. Touch the sources that differ so this checkout's crates are rebuilt.
git -C "$root" diff --name-only "$rev" -- '*.rs' '*.toml' | while read -r f; do
    [ -e "$root/$f" ] && touch "$root/$f"
done
(cd "$root" && cargo build --release --bin sim >&2)
cp "$target/release/sim" "$work/sim-new"
if cmp -s "$work/sim-old" "$work/sim-new"; then
    echo "the two builds are the same binary: $rev and this checkout do not differ in sim" >&2
fi

# One core for both (the first the process may use), where `taskset` exists: a sweep with
# `--jobs 1` may still use more than one thread, and the figure claimed is one core's.
pin=()
if command -v taskset >/dev/null; then
    pin=(taskset -c "$(taskset -pc $$ | sed 's/.*: //; s/[,-].*//')")
fi

rate() { # binary, first seed
    "${pin[@]}" "$1" run "$scenario" --seeds "$2..$(($2 + batch))" --faults "$profile" --jobs 1 --json \
        | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["seeds_failed"]==0, r; print(r["seeds_per_second"])'
}

old_rates=() new_rates=() ratios=()
for ((r = 0; r < rounds; r++)); do
    first=$((r * batch))
    o=$(rate "$work/sim-old" $first)
    n=$(rate "$work/sim-new" $first)
    ratio=$(python3 -c "print(f'{$n / $o:.3f}')")
    old_rates+=("$o") new_rates+=("$n") ratios+=("$ratio")
    printf 'round %d: %s %.0f seeds/s, this checkout %.0f seeds/s, new/old %s\n' \
        $((r + 1)) "$rev" "$o" "$n" "$ratio"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%s under %s, %d seeds x %d rounds: %s median %.0f seeds/s, this checkout %.0f; new/old median of per-round ratios %s\n' \
    "$scenario" "$profile" "$batch" "$rounds" "$rev" "$(median "${old_rates[@]}")" \
    "$(median "${new_rates[@]}")" "$(median "${ratios[@]}")"
