#!/usr/bin/env bash
# SLURM: one task per node, all the node's GPUs per task. Inside srun, each task's vgen.main finds
# the job from SLURM's variables (jax.distributed.initialize() without arguments).
#   sbatch --nodes=2 --gpus-per-node=8 launch/slurm.sh --config=configs/ffgan_kth.py --workdir=runs/ffgan
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=16
#SBATCH --time=48:00:00
#SBATCH --signal=TERM@120
set -euo pipefail
# SIGTERM (sent 120 s before the time limit) makes every task save the same step and exit;
# resubmitting resumes.
srun --kill-on-bad-exit=1 python -m vgen.main "$@"
