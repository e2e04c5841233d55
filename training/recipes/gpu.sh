#!/usr/bin/env bash
# The locality fine-tune (model card, step 8) on a CUDA GPU, in one command, for a GPU machine
# that has torch but no network (this project's lent machines): the photos travel packed.
#
#   here:   .venv/bin/python scripts/pack_data.py ../shared/data/train packed --budget-mb 24
#           echo /packed/ >> .git/info/exclude        # then carry packed/ with the tree
#   there:  RUN=$OUT/loc STEPS=4000 training/recipes/gpu.sh
#
# It installs this checkout without dependencies (torch, numpy, OpenCV, scikit-image, Pillow,
# safetensors are there already), trains from the bundled model on the packed photos with a
# global batch of 32, bf16 autocast, and writes RUN/model.safetensors. The simulated hints are
# drawn on the CPU in the training process; measure the data wait (log.jsonl, data_share)
# before trusting the GPU's speed. A cut run resumes: run the same command again.
set -euo pipefail
cd "$(dirname "$0")/../.."
PACK=${PACK:-packed}
RUN=${RUN:-runs/loc-gpu}
STEPS=${STEPS:-4000}
PY=${PY:-python3}
$PY -m pip install -q --no-deps --no-index --no-build-isolation -e . >/dev/null
if [ -f "$RUN/checkpoint.safetensors" ] && [ ! -f "$RUN/model.safetensors" ]; then
  exec $PY -m colouru train --out "$RUN" --resume --device cuda
fi
exec $PY -m colouru train --data "$PACK" --out "$RUN" --device cuda --precision bf16 \
  --init assets/models/colouru-default.safetensors --stages pretrain-g --steps "$STEPS" \
  --size 256 --batch-size 32 --loss huber --huber-delta 10 --lr 1e-4 --seed 30 \
  --stroke-share 0.3 --recolour-share 0.5 --val-every 1000 --ckpt-every 200
