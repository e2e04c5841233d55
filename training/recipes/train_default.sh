#!/usr/bin/env bash
# The exact command that trains the bundled default model (assets/models/), on this
# project's 2-core CPU machine. Re-running it resumes from runs/default's last checkpoint.
# Extra arguments are passed on (e.g. --steps 9000,300,1000 to lengthen a resumed run).
# The defaults of `colouru train` are this recipe's settings (width 16, depth 5, 3 hint
# propagation scales, 2 edge-aware hint propagations, 96 px crops, batch 16); they are
# spelled out here for the record.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -f runs/default/checkpoint.safetensors ]; then
  exec .venv/bin/colouru train --out runs/default --resume --threads 1 "$@"
fi
exec .venv/bin/colouru train --data ../shared/data/train --val ../shared/data/val --out runs/default \
  --width 16 --depth 5 --hint-scales 3 --edge-hints 2 --size 96 --batch-size 16 --steps 9000,300,500 \
  --val-every 500 --ckpt-every 100 --threads 1 "$@"
