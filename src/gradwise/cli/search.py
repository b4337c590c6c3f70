"""``gradwise tune``: the search space by the course's order of importance, the network of a
trial's parameters, and the command's checks of its options."""

#: The tiers of hyperparameters, most important first (the order of the deep-learning
#: course's advice on tuning): the learning rate; then Adam's momentum beta_1, the mini-batch
#: size and the hidden units; then the number of layers and the learning-rate decay; then the
#: rest (Adam's beta_2). ``--space N`` searches the first N tiers; regularization (L2 and
#: dropout) is searched in every tier.
TIER_NAMES = ("learning-rate", "momentum-batch-units", "layers-decay", "all")

#: Values of the hyperparameters left out of the search (those of ``gradwise train``).
DEFAULTS = {"beta_1": 0.9, "beta_2": 0.999, "units": 128, "layers": 2, "lr_decay": 0.0}


def tiers():
    """The dimensions of each tier (a list of dicts), regularization apart."""
    from .. import tuning
    return [{"learning_rate": tuning.LogUniform(1e-4, 1e-1)},
            {"beta_1": tuning.OneMinusLogUniform(0.8, 0.99),
             "batch_size": tuning.Choice([32, 64, 128, 256]),
             "units": tuning.IntUniform(16, 256, log=True)},
            {"layers": tuning.IntUniform(1, 3),
             "lr_decay": tuning.LogUniform(1e-3, 1.0)},
            {"beta_2": tuning.OneMinusLogUniform(0.99, 0.9999)}]


def parse_space(text):
    """``--space``: a number of tiers (1-4) or a tier's name; returns the number."""
    if text in TIER_NAMES:
        return TIER_NAMES.index(text) + 1
    if text.isdigit() and 1 <= int(text) <= len(TIER_NAMES):
        return int(text)
    raise ValueError(f"--space: expected 1-{len(TIER_NAMES)} or one of {', '.join(TIER_NAMES)}, "
                     f"received {text!r}.")


def search_space(n_tiers):
    """The first ``n_tiers`` tiers plus L2 and dropout, as a ``gw.tuning`` space."""
    from .. import tuning
    space = {}
    for tier in tiers()[:n_tiers]:
        space.update(tier)
    space["l2"] = tuning.LogUniform(1e-6, 1e-2)
    space["dropout"] = tuning.Uniform(0.0, 0.5)
    return space


def hidden_sizes(params):
    """Hidden layer widths of a trial (every hidden layer has the same width)."""
    values = {**DEFAULTS, **params}
    return [values["units"]] * values["layers"]


def network(params, n_features, outputs, task, moments, auc=False, columns=None):
    """The tuning ``build`` function (module level, so worker processes can unpickle it):
    ``gradwise train``'s network with the trial's widths, depth, regularization and Adam
    settings; a learning-rate decay ``lr_decay`` makes the rate ``lr0 / (1 + lr_decay *
    epoch)``."""
    import gradwise as gw
    from . import data as _cli_data
    values = {**DEFAULTS, **params}
    rate = values["learning_rate"]
    if values["lr_decay"] > 0:
        rate = gw.schedules.PowerDecay(rate, decay_steps=1.0 / values["lr_decay"], by="epoch")
    model = _cli_data.network(n_features, hidden_sizes(params), outputs, task, rate, moments,
                              l2=values["l2"], dropout=values["dropout"], auc=auc,
                              columns=columns)
    model.optimizer.beta_1, model.optimizer.beta_2 = values["beta_1"], values["beta_2"]
    return model


def check_budget(args, space):
    """The GP's random start and coarse to fine's two stages, in the command's options."""
    from ..tuning._gp import gp_startup_trials
    if args.sampler == "gp" and args.storage is None:
        startup = gp_startup_trials(len(space))
        if args.trials <= startup:
            raise ValueError(f"--trials: --sampler gp starts with max(5, 2 x {len(space)} "
                             f"hyperparameters of --space {args.space}) = {startup} random "
                             f"trials; expected --trials {startup + 1} or more, received "
                             f"{args.trials}.")
    if args.strategy == "coarse-to-fine" and args.trials < 2:
        raise ValueError("--trials: --strategy coarse-to-fine needs 2 trials or more (a coarse "
                         f"and a fine stage), received {args.trials}.")
