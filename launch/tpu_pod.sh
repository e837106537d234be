#!/usr/bin/env bash
# A Cloud TPU VM pod slice: install vgen on every worker, then run one vgen.main command on all of
# them at once; each worker's process joins the job through the TPU VM's metadata
# (VGEN_DISTRIBUTED=auto: jax.distributed.initialize() without arguments).
#   launch/tpu_pod.sh TPU_NAME ZONE VGEN_GIT_URL --config=configs/ffgan_kth.py --workdir=/mnt/shared/ffgan
# The workdir and data_dir must be a directory every worker sees (e.g. a Filestore or GCS FUSE
# mount). Preemption: SIGTERM on any worker stops all of them after the same step, saved.
# Written from Google's TPU VM documentation; not run here (no TPU was available).
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "tpu_pod: usage: launch/tpu_pod.sh TPU_NAME ZONE VGEN_GIT_URL VGEN_MAIN_ARGS..." >&2
  exit 2
fi
tpu=$1 zone=$2 source=$3
shift 3
command -v gcloud > /dev/null || { echo "tpu_pod: gcloud is not installed (the Google Cloud SDK)" >&2; exit 2; }
args=$(printf '%q ' "$@")
gcloud compute tpus tpu-vm ssh "$tpu" --zone="$zone" --worker=all --command="set -e
if [ ! -d vgen ]; then git clone -q $(printf '%q' "$source") vgen; fi
cd vgen && git pull -q && python3 -m pip install -q -e '.[tpu]'
VGEN_DISTRIBUTED=auto python3 -m vgen.main $args"
