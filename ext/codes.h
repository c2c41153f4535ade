#ifndef TOPOANALYSIS_CODES_H
#define TOPOANALYSIS_CODES_H

/* The engine contract: every integer the Python owners and the kernels exchange is defined
   here, once. ext/engine.pyx exports them to Python (LOSS_CODES, ACTIVATION_CODES, STATUS_*,
   OPTIMIZER_*), and topoanalysis.losses.loss_code / activations.activation_code read them from
   there; tests/test_engine_contract.py checks that the names match. */

/* losses (topoanalysis.losses.LOSSES) */
enum ta_loss_code {
    TA_LOSS_MSE = 0,
    TA_LOSS_L1 = 1,
    TA_LOSS_BCE = 2,            /* binary cross-entropy with logits */
    TA_LOSS_CE = 3,             /* softmax cross-entropy with logits (not elementwise) */
    /* elementwise losses of a sigmoid output unit: the network's last affine value o goes
       through s = sigmoid(o) and the loss is taken on s (Architecture.output_activation =
       "sigmoid"); the kernels' stored outputs stay o, the owner applies the sigmoid */
    TA_LOSS_MSE_SIGMOID = 4,
    TA_LOSS_L1_SIGMOID = 5
};

/* activations (topoanalysis.activations.ACTIVATIONS); TA_ACT_NONE: store pre-activations */
enum ta_act_code {
    TA_ACT_NONE = -1,
    TA_ACT_RELU = 0,
    TA_ACT_LEAKY_RELU = 1,
    TA_ACT_LINEAR = 2,
    TA_ACT_TANH = 3,            /* not vectorized: ta_tanh in a second pass */
    TA_ACT_SIGMOID = 4,
    TA_ACT_ABS = 5
};

/* per-task status written by the kernels (per network for training, per evaluation for the
   batched evaluations and segments); translated in one place, _engine.raise_for_status */
enum ta_status {
    TA_RUNNING = 0,             /* training: not stopped yet; evaluations: finite result */
    TA_COMPLETED = 1,
    TA_REACHED_TARGET = 2,
    TA_DIVERGED = 3,            /* non-finite loss, output, pre-activation or parameter */
    TA_OUT_OF_MEMORY = 4        /* per-thread scratch could not be allocated */
};

/* optimizers of train_chunk */
enum ta_optimizer {
    TA_OPT_PLAIN = 0,           /* gd and sgd */
    TA_OPT_MOMENTUM = 1,
    TA_OPT_ADAM = 2
};

#endif /* TOPOANALYSIS_CODES_H */
