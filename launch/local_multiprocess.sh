#!/usr/bin/env bash
# Runs N JAX processes on this machine, as a multi-host job would (a test of the multi-host path).
#   launch/local_multiprocess.sh 2 --config=configs/quickstart.py:tiny --workdir=runs/mp
# Each process sees its own CPU device; together they form one "data" mesh.
set -euo pipefail
num=${1:?number of processes}; shift
export JAX_COORDINATOR_ADDRESS=127.0.0.1:${VGEN_PORT:-12355}
export JAX_NUM_PROCESSES=$num
pids=()
for ((i = 0; i < num; i++)); do
  JAX_PROCESS_ID=$i JAX_PLATFORMS=cpu python -m vgen.main "$@" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
exit $status
