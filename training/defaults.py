"""The defaults of ``colouru train``, in one home that loads without torch: ``TrainConfig``
(and the generator and GAN settings it holds) takes them from here, and so does the command
line's help, so the two never disagree and ``colouru --help`` stays fast."""

STAGES = ("pretrain-g", "pretrain-d", "gan")  # in their order; --stages picks some
STEPS = (5000, 300, 1500)  # per stage, in the order of STAGES
BATCH_SIZE = 16  # samples per step and process
SIZE = 96  # training crop side in pixels (photos cached at SIZE * 5/4)
ARCH = "unet-pretrained"  # an ImageNet encoder as the down path
ENCODER = "efficientnet-lite0"
WIDTH = 16  # the plain U-Net's first level; unet-pretrained: its decoder's unit
HINT_SCALES = 3  # hint-cell scales fed to the generator
EDGE_HINTS = 2  # edge-aware hint spreads fed to the generator
FINE_WIDTH = 0  # unet-pretrained: channels of its half-resolution input block (0: none)
DEPTH = 5  # levels of the plain U-Net
DISC = "patch"  # discriminator architecture
LR = 2e-4  # Adam learning rate for both networks
LOSSES = ("mse", "huber")  # the generator's regression losses on ab (training/gan.py)
LOSS = "mse"  # the one used
REBALANCE = 1.0  # colour rebalancing lambda of the loss: 1 none, 0.5 Zhang et al. 2016's
HUBER_DELTA = 1.0  # huber: where the loss turns linear, in ab units (Zhang et al. 2017: 1)
LAMBDA_MSE = 100.0  # weight of MSE beside the adversarial loss in the gan stage
STROKE_SHARE = 0.0  # share of the samples with hints that get brush strokes too
RECOLOUR_SHARE = 0.0  # share of the samples with hints whose hinted regions take new colours
SEED = 0
CACHE = "auto"  # the prepared uint8 cache of the photos: auto (on), on, off
PRECISION = "auto"  # auto: bf16 on a CUDA GPU that has it, else fp32


def steps_text() -> str:
    return ",".join(str(s) for s in STEPS)
