#!/usr/bin/env bash
# The exact commands that train the pretrained-encoder model (an ImageNet EfficientNet-Lite0
# down path, --arch unet-pretrained) on this project's 2-core CPU machine, one
# torch thread per run; see assets/models/README.md for what each step gave.
#   1. runs/pre128: all of ../shared/data/train (7,864 usable photos), MSE, 128 px crops
#      (photos cached at 160 px), batch 16. Started with --steps 5000 and shortened to 2600
#      on resume at step 1400 (the validation with hints lagged; the 256 px step was given the
#      time instead), so its rate decays linearly over steps 1820 to 2600.
#   2. runs/pre256: step 1's model fine-tuned at 256 px crops (cached at 320 px, the scale of
#      the 256 px evaluation), batch 8, on every class but forest (whose photos are 150 px).
#      Started with --steps 2000 and shortened to 1500 on resume at step 600.
#   3. runs/pre256b: a second 256 px cycle of step 2's model at half the rate (1e-4), other
#      crops and hints (seed 1), two processes. Started with --steps 4500 and shortened to
#      1500 on resume at step 800 (docs/model/pretrained-encoder.md).
#   4. runs/fine16: step 3's model grown by the half-resolution input block (--fine-width 16,
#      the same function at the start), the same nine classes. Started with --steps 3000 and
#      shortened to 2500 on resume at step 1100 (the rate falls from step 1750).
#   5. runs/fine16-bo: step 4's model on the varied photos (bsds, objects) with brush strokes
#      in 30% of the samples with hints.
#   6. runs/fine16-bo2: a 6,000-step cycle of step 5 (under way; not yet evaluated).
# Steps 1 and 2 were recorded as single processes of one thread (PROCS=1), the other core serving
# evaluations and tests; by default (PROCS=2) the steps run under torchrun, the fastest on two
# cores, with the same global batch (a different draw of samples, so not bit-identical).
# Re-running skips finished steps and resumes the one cut short (training/recipes/step.sh).
# The photos of the new classes are research-only or of unstated terms: see the model card.
set -euo pipefail
cd "$(dirname "$0")/../.."
source training/recipes/step.sh
step runs/pre128 "${BEFORE[@]}" \
  --data ../shared/data/train --val ../shared/data/val \
  --arch unet-pretrained --encoder efficientnet-lite0 --width 16 --hint-scales 3 \
  --edge-hints 2 --stages pretrain-g --steps 2600 --size 128 --batch-size $((16 / PROCS)) \
  --val-every 500 --ckpt-every 100
step runs/pre256 "${BEFORE[@]}" \
  --data ../shared/data/train \
  --classes bsds,objects,people,animals,things,flowers,rooms,clothing,streets \
  --val ../shared/data/val --init runs/pre128/model.safetensors --stages pretrain-g \
  --steps 1500 --size 256 --batch-size $((8 / PROCS)) --val-every 250 --ckpt-every 50
step runs/pre256b "${BEFORE[@]}" \
  --data ../shared/data/train \
  --classes bsds,objects,people,animals,things,flowers,rooms,clothing,streets \
  --val ../shared/data/val --init runs/pre256/model.safetensors --stages pretrain-g \
  --steps 1500 --size 256 --batch-size $((8 / PROCS)) --lr 1e-4 --seed 1 --val-every 500 \
  --ckpt-every 50
step runs/fine16 "${BEFORE[@]}" \
  --data ../shared/data/train \
  --classes bsds,objects,people,animals,things,flowers,rooms,clothing,streets \
  --val ../shared/data/val --init runs/pre256b/model.safetensors --fine-width 16 \
  --stages pretrain-g --steps 2500 --size 256 --batch-size $((8 / PROCS)) --lr 1e-4 --seed 3 \
  --val-every 500 --ckpt-every 50
step runs/fine16-bo "${BEFORE[@]}" \
  --data ../shared/data/train --classes bsds,objects \
  --val ../shared/data/val --init runs/fine16/model.safetensors --stages pretrain-g \
  --steps 1000 --size 256 --batch-size $((8 / PROCS)) --lr 1e-4 --seed 4 --stroke-share 0.3 \
  --val-every 500 --ckpt-every 50
step runs/fine16-bo2 "${BEFORE[@]}" \
  --data ../shared/data/train --classes bsds,objects \
  --val ../shared/data/val --init runs/fine16-bo/model.safetensors --stages pretrain-g \
  --steps 6000 --size 256 --batch-size $((8 / PROCS)) --lr 1e-4 --seed 5 --stroke-share 0.3 \
  --val-every 500 --ckpt-every 50
