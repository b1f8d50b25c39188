#!/usr/bin/env bash
# No-op benchmark: `dotnet cake --target=Promote` with nothing changed, against a bare Cake script of the
# same shape (the same tasks and dependencies, each body empty), timed in one run, A B A B, with the
# same Cake settings (the workspace's cake.config, copied). Prints both medians (wall and CPU) and their ratio.
#
#   build/bench-noop.sh [ROUNDS] [WORKSPACE] [-- extra cake arguments]
#
# WORKSPACE defaults to this repository (ctb built from src/, skipped by its build stamp); give the folder
# of a workspace made by `ctb init` to time the installed-tool way. The workspace must have run once
# (the benchmark warms it up with one run and fails if that run is not a no-op afterwards).
set -euo pipefail
rounds="${1:-5}"
workspace="$(cd "${2:-$(dirname "$0")/..}" && pwd)"
shift $(( $# >= 2 ? 2 : $# )) || true
[[ "${1:-}" == "--" ]] && shift
extra=("$@")
export NO_COLOR=1 DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

bare="$(mktemp -d)"
trap 'rm -rf "$bare"' EXIT
mkdir -p "$bare/.config"
# Only Cake in the bare folder's manifest (the same cake.tool the workspaces pin).
cat > "$bare/.config/dotnet-tools.json" <<'MANIFEST'
{ "version": 1, "isRoot": true, "tools": { "cake.tool": { "version": "7.0.0", "commands": ["dotnet-cake"], "rollForward": false } } }
MANIFEST
[[ -f "$workspace/cake.config" ]] && cp "$workspace/cake.config" "$bare/cake.config"
# The same graph as the pipeline: Build (this repository only), seven stages, the Pipeline end task.
first=""
if grep -q 'Task("Build")' "$workspace/build.cake"; then first='Task("Build").Does(() => {});'; fi
cat > "$bare/build.cake" <<EOF
var target = Argument("target", "Promote");
$first
string previous = $( [[ -n "$first" ]] && echo '"Build"' || echo 'null' );
foreach (var stage in new[] { "Ingest", "Features", "Split", "Tune", "Evaluate", "Report", "Promote" })
{
    var task = Task(stage);
    if (previous != null) task.IsDependentOn(previous);
    task.WithCriteria(() => false, "up to date").Does(() => {});
    previous = stage;
}
Task("Pipeline").IsDependentOn(target);
RunTarget("Pipeline");
EOF

# Seconds of wall and CPU (user + sys, children included) of one command, as "wall cpu".
measure() {
  local dir="$1"; shift
  local out; out="$( { TIMEFORMAT='%R %U %S'; time ( cd "$dir" && "$@" >/dev/null 2>&1 ) ; } 2>&1 )" || { echo "failed: $* in $dir" >&2; exit 1; }
  awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' <<<"$out"
}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

(cd "$bare" && dotnet tool restore >/dev/null)
echo "warming up (one run of each; the pipeline must be a no-op afterwards)"
(cd "$workspace" && dotnet cake --target=Promote "${extra[@]}" >/dev/null 2>&1) || { echo "the pipeline run failed in $workspace" >&2; exit 1; }
(cd "$bare" && dotnet cake >/dev/null 2>&1) || { echo "the bare Cake script failed in $bare" >&2; exit 1; }
summary="$(cd "$workspace" && dotnet cake --target=Promote "${extra[@]}" 2>&1)"
if grep -Eq '^\s*(Ingest|Features|Split|Tune|Evaluate|Report|Promote)\s+[0-9]' <<<"$summary"; then
  echo "not a no-op: a stage ran in the second warm-up run" >&2; exit 1
fi

a_wall=(); a_cpu=(); b_wall=(); b_cpu=()
for i in $(seq 1 "$rounds"); do
  read -r w c < <(measure "$workspace" dotnet cake --target=Promote "${extra[@]}"); a_wall+=("$w"); a_cpu+=("$c")
  read -r w c < <(measure "$bare" dotnet cake); b_wall+=("$w"); b_cpu+=("$c")
  echo "round $i: ctbuild ${a_wall[-1]}s wall ${a_cpu[-1]}s cpu | bare cake ${b_wall[-1]}s wall ${b_cpu[-1]}s cpu"
done
aw=$(printf '%s\n' "${a_wall[@]}" | median); ac=$(printf '%s\n' "${a_cpu[@]}" | median)
bw=$(printf '%s\n' "${b_wall[@]}" | median); bc=$(printf '%s\n' "${b_cpu[@]}" | median)
echo "workspace: $workspace"
echo "no-op median: ctbuild ${aw}s wall, ${ac}s cpu; bare cake ${bw}s wall, ${bc}s cpu ($rounds rounds, A B A B)"
awk -v aw="$aw" -v bw="$bw" -v ac="$ac" -v bc="$bc" 'BEGIN { printf "ratio (median): %.2fx wall, %.2fx cpu (goal <= 2x)\n", aw / bw, ac / bc }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
