#!/usr/bin/env bash
# Retraining on one class, shown: fine-tune the bundled model on one class of the shared
# photos with a held-out split of that class, then compare the two models on that split.
#   training/recipes/finetune_class.sh forest [steps] [crop size]
set -euo pipefail
cd "$(dirname "$0")/../.."
CLASS=${1:-forest}
STEPS=${2:-400}
SIZE=${3:-128}  # crop side; photos are cached at 5/4 of it (the shared classes are 150 px)
RUN=runs/finetune-$CLASS
BASE=${BASE_MODEL:-assets/models/colouru-default.safetensors}
if [ -f "$RUN/checkpoint.safetensors" ]; then
  .venv/bin/colouru train --out "$RUN" --resume --threads 1
else
  .venv/bin/colouru train --data ../shared/data/train --classes "$CLASS" --val-split 0.1 \
    --init "$BASE" --stages pretrain-g --steps "$STEPS" --size "$SIZE" --val-every 200 \
    --batch-size 16 --loss mse --huber-delta 1 --stroke-share 0 --recolour-share 0 \
    --out "$RUN" --threads 1
fi
for which in general:"$BASE" finetuned:"$RUN/model.safetensors"; do
  .venv/bin/colouru evaluate --data "$RUN/val_split.txt" --model "${which#*:}" \
    --hints 0,5,20 --no-levin --json "$RUN/eval-${which%%:*}.json" --quiet
done
