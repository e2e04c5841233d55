#!/usr/bin/env bash
# The exact commands that train the bundled default model (assets/models/), on this project's
# 2-core CPU machine; see assets/models/README.md for what each step gave.
#   1. runs/default: all of ../shared/data/train, 9000 MSE steps, then the discriminator and
#      500 GAN steps (the GAN generator measured worse and is not shipped).
#   2. runs/general-ft: the MSE generator of step 1 fine-tuned for 1500 steps on the two
#      classes of varied, larger photos (bsds, objects).
#   3. runs/general-ft160: step 2's model, 1000 more steps on the same classes at 160 px
#      crops; its model.safetensors is the bundled model.
# Re-running resumes whichever step was cut short. The defaults of `colouru train` are step
# 1's settings (width 16, depth 5, 3 hint propagation scales, 2 edge-aware hint spreads, 96 px
# crops, batch 16); they are spelled out here for the record.
set -euo pipefail
cd "$(dirname "$0")/../.."
COLOURU=.venv/bin/colouru
if [ ! -f runs/default/model-gan.safetensors ]; then
  if [ -f runs/default/checkpoint.safetensors ]; then
    $COLOURU train --out runs/default --resume --threads 1
  else
    $COLOURU train --data ../shared/data/train --val ../shared/data/val --out runs/default \
      --width 16 --depth 5 --hint-scales 3 --edge-hints 2 --size 96 --batch-size 16 \
      --steps 9000,300,500 --val-every 500 --ckpt-every 100 --threads 1
  fi
fi
if [ -f runs/general-ft/checkpoint.safetensors ]; then
  $COLOURU train --out runs/general-ft --resume --threads 1
else
  $COLOURU train --data ../shared/data/train --classes bsds,objects --val ../shared/data/val \
    --init runs/default/model-pretrain-g.safetensors --stages pretrain-g --steps 1500 \
    --val-every 500 --ckpt-every 100 --out runs/general-ft --threads 1
fi
if [ -f runs/general-ft160/checkpoint.safetensors ]; then
  $COLOURU train --out runs/general-ft160 --resume --threads 1
else
  $COLOURU train --data ../shared/data/train --classes bsds,objects --val ../shared/data/val \
    --init runs/general-ft/model.safetensors --stages pretrain-g --steps 1000 --size 160 \
    --val-every 250 --ckpt-every 100 --out runs/general-ft160 --threads 1
fi
echo "bundled model: cp runs/general-ft160/model.safetensors assets/models/colouru-default.safetensors"
