# Sourced by the recipes. step RUN ARGS...: skip a finished run (its model.safetensors is
# written last), resume a cut one, or start it. THREADS=N before a step sets its torch
# threads (default 1).
step() {
  local run=$1
  shift
  if [ -f "$run/model.safetensors" ]; then
    echo "$run: finished"
  elif [ -f "$run/checkpoint.safetensors" ]; then
    .venv/bin/colouru train --out "$run" --resume --threads "${THREADS:-1}"
  else
    .venv/bin/colouru train --out "$run" --threads "${THREADS:-1}" "$@"
  fi
}
