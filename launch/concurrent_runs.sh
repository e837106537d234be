#!/usr/bin/env bash
# Trains several runs at once on one machine (small models share one GPU well), stops any run
# still training at a deadline (SIGTERM: it saves a checkpoint and can be resumed), then scores
# each run with --mode=eval.
#   launch/concurrent_runs.sh SPEC DEADLINE_S
# SPEC holds one run per line, "NAME FLAGS..." (vgen.main's flags without --workdir; '#' starts
# a comment). Run NAME goes to runs/NAME, its logs to runs/NAME.log and runs/NAME.eval.log.
# VGEN_ENTRY picks the program (default "-m vgen.main"; launch/no_tensorflow.py where TensorFlow
# is not installed) and VGEN_PYTHON the interpreter (default python3). The eval gets its own
# deadline, VGEN_EVAL_DEADLINE_S (default 600).
set -uo pipefail
usage="usage: launch/concurrent_runs.sh SPEC DEADLINE_S"
[[ $# -eq 2 ]] || { echo "concurrent_runs: $usage" >&2; exit 2; }
spec=$1
deadline=$2
[[ -f "$spec" ]] || { echo "concurrent_runs: no such spec file: $spec" >&2; exit 2; }
[[ "$deadline" =~ ^[1-9][0-9]*$ ]] || {
  echo "concurrent_runs: DEADLINE_S must be a positive number of seconds, got '$deadline'" >&2
  exit 2
}
read -r -a entry <<<"${VGEN_ENTRY:--m vgen.main}"
python=${VGEN_PYTHON:-python3}
# Each process takes GPU memory as it needs it, not 75% of it up front.
export XLA_PYTHON_CLIENT_PREALLOCATE=false
mkdir -p runs

names=()
flags=()
while read -r name rest; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  names+=("$name")
  flags+=("$rest")
done <"$spec"
if [[ ${#names[@]} -eq 0 ]]; then
  echo "concurrent_runs: no runs in $spec" >&2
  exit 2
fi

run_all() {  # run_all MODE DEADLINE_S LOG_SUFFIX
  local pids=() i status=0
  for i in "${!names[@]}"; do
    read -r -a f <<<"${flags[$i]}"
    timeout --signal=TERM --kill-after=60 "$2" "$python" "${entry[@]}" "${f[@]}" \
      --workdir="runs/${names[$i]}" --mode="$1" >"runs/${names[$i]}$3" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}"
    local rc=$?
    echo "$(date +%T) ${names[$i]} $1: exit $rc$([[ $rc -eq 124 ]] && echo ' (deadline)')"
    [[ $rc -ne 0 ]] && status=$rc
  done
  return $status
}

echo "$(date +%T) training ${#names[@]} runs, deadline ${deadline}s"
run_all train "$deadline" .log
echo "$(date +%T) scoring"
run_all eval "${VGEN_EVAL_DEADLINE_S:-600}" .eval.log
