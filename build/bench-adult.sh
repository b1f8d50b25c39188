#!/usr/bin/env bash
# The Adult benchmark of issue 13: the bundled sample with all four batches (all 48,842 rows of Adult) in data/raw,
# split 70/15/15 by the sample's config, Tune capped at EVALS trials, timed as `ctb run --force` (the whole pipeline,
# no build) in a fresh temporary workspace. Prints wall and CPU seconds (user + sys, children included), the load
# average before and after, the stage lines, and per trainer the trials and their training seconds.
#
#   build/bench-adult.sh [EVALS] [CONFIG]
#
# EVALS defaults to 50. CONFIG defaults to this repository's ctbuild.json (give another to compare a space or
# setting in the same session). ctb is the Release build in src/CtBuild.Cli/bin (build it first).
set -euo pipefail
evals="${1:-50}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
config="$(realpath "${2:-$repo/ctbuild.json}")"
ctb="$repo/src/CtBuild.Cli/bin/Release/net10.0/ctb.dll"
[[ -f "$ctb" ]] || { echo "no $ctb: run 'dotnet build -c Release' first" >&2; exit 2; }
export NO_COLOR=1 DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

ws="$(mktemp -d)"
trap 'rm -rf "$ws"' EXIT
cp "$config" "$ws/ctbuild.json"
cp "$repo/ctbuild.schema.json" "$ws/"
cp -r "$repo/features" "$ws/"
mkdir -p "$ws/data/raw"
cp "$repo"/data/raw/* "$repo"/data/incoming/* "$ws/data/raw/"
sed -i -E "s/\"maxEvals\": *[0-9]+/\"maxEvals\": $evals/" "$ws/ctbuild.json"
(cd "$ws" && git init -q && git add -A && git -c user.name=bench -c user.email=bench@localhost commit -qm "benchmark workspace")

echo "load before: $(uptime | sed 's/.*load average: //')"
start=$(date +%s.%N)
{ TIMEFORMAT='%R %U %S'; time (cd "$ws" && dotnet "$ctb" run --force > "$ws/run.log" 2>&1); } 2> "$ws/time" || { cat "$ws/run.log"; exit 1; }
echo "load after:  $(uptime | sed 's/.*load average: //')"
grep -E '^[a-z]+ +ran ' "$ws/run.log"
awk '{ printf "ctb run --force: %.1f s wall, %.1f CPU-seconds (user %.1f + sys %.1f)\n", $1, $2 + $3, $2, $3 }' "$ws/time"
# Per trainer: trials, training seconds (sum, median, max) and the best valid AUC, from the candidate record.
grep -E '^tune: trained best' "$ws/run.log" || true
python3 - "$ws/.ctb/candidate/candidate.json" "$ws/.ctb/decision/decision.json" <<'PY'
import json, statistics, sys
c = json.load(open(sys.argv[1]))
test = json.load(open(sys.argv[2]))["decision"]["candidate"]
by = {}
for t in c["trials"]: by.setdefault(t["trainer"], []).append(t)
for name, ts in by.items():
    s = [t["seconds"] for t in ts]; v = [t["validAuc"] for t in ts if t["validAuc"] is not None]
    print(f"  {name:24} {len(ts):3} trials  {sum(s):6.1f} s in all, median {statistics.median(s):.2f} s, max {max(s):.2f} s  best valid AUC {max(v) if v else float('nan'):.4f}")
print(f"  candidate: trial #{c['trialNumber']} {c['trainer']} valid AUC {c['validAuc']:.4f}, trained on {c.get('trainedOn', 'train')} ({c.get('trainedRows', 0)} rows); test AUC {test['auc']:.6f} on {test['rows']} rows")
PY
