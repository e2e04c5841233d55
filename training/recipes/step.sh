# Sourced by the recipes. step RUN ARGS...: skip a finished run (its model.safetensors is
# written last), resume a cut one, or start it.
# PROCS=N: processes under torchrun (gloo), one torch thread each; the default 2 was the
# fastest way to spend this project's two cores (benchmarks/bench_train_modes.py: 27.4
# samples/s at 128 px against 24.6 with two threads in one process and 16.9 with one). The
# recipes divide their global batch by PROCS. PROCS=1 runs one process of THREADS=N torch
# threads (default 1), as the recorded runs did while the other core served evaluations.
PROCS=${PROCS:-2}
# What these runs took by default before a new run's defaults became the shipped recipe
# (issue 28): the MSE, squares only, no recoloured regions. The recipes pass them first, so
# that an option written after them wins, and each run trains what it trained.
BEFORE=(--loss mse --huber-delta 1 --stroke-share 0 --recolour-share 0)
train() {
  if [ "$PROCS" -gt 1 ]; then
    OMP_NUM_THREADS=1 .venv/bin/torchrun --standalone --nproc_per_node "$PROCS" \
      -m colouru train --threads 1 "$@"
  else
    .venv/bin/colouru train --threads "${THREADS:-1}" "$@"
  fi
}
step() {
  local run=$1
  shift
  if [ -f "$run/model.safetensors" ]; then
    echo "$run: finished"
  elif [ -f "$run/checkpoint.safetensors" ]; then
    train --out "$run" --resume
  else
    train --out "$run" "$@"
  fi
}
