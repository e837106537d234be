#!/usr/bin/env bash
# SLURM: one task per node, all the node's GPUs per task; JAX discovers the cluster from SLURM.
#   sbatch --nodes=2 --gpus-per-node=8 launch/slurm.sh --config=configs/ffgan_kth.py --workdir=runs/ffgan
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=16
#SBATCH --time=48:00:00
#SBATCH --signal=TERM@120
set -euo pipefail
head=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
export JAX_COORDINATOR_ADDRESS=$head:${VGEN_PORT:-12355}
export JAX_NUM_PROCESSES=$SLURM_NTASKS
# SIGTERM (sent 120 s before the time limit) makes vgen save a checkpoint; resubmitting resumes.
srun --kill-on-bad-exit=1 bash -c 'JAX_PROCESS_ID=$SLURM_PROCID exec python -m vgen.main "$@"' _ "$@"
