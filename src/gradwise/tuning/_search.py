"""``tune``: random search or Bayesian optimization (TPE) of a model-building function, with
pruning of hopeless trials, on Optuna."""
import dataclasses
import math
import numbers
import time
import warnings

import numpy as np

from ..backend import kernels as _kernels
from .._training import (TrainingDiverged, apply_class_weight, expected_saving, prepare,
                         prepare_validation)
from .._validation import check_positive_int, check_positive_number
from ..callbacks import Callback
from ..callbacks.monitoring import _monitor_mode
from ..model import Sequential
from ..tabular.errors import TableError
from ._result import TuningResult, trials_from_study
from ._space import Choice, IntUniform, check_space
from ._seeds import FINE_STREAM, SAMPLER_STREAM, TRIAL_STREAM, derive_seed
from ._study import (PRUNERS, SAMPLERS, STRATEGIES, STUDY_NAME, Plan, check_database,
                     database_message, database_storage, import_optuna, optuna_logging)

__all__ = ["tune"]


class _EpochReporter(Callback):
    """Reports the objective to the Optuna trial after each epoch and stops the training when
    the pruner says so, or when the objective is no longer finite (a training loss that is
    not finite stops ``fit`` with ``TrainingDiverged``, which the search catches)."""

    def __init__(self, trial, objective):
        super().__init__()
        self.trial, self.objective = trial, objective
        self.pruned = self.diverged = False

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        value = logs.get(self.objective)
        if value is None:  # validation skipped: a callback stopped training inside the epoch
            return
        self.trial.report(float(value), epoch)
        if not math.isfinite(value):
            self.diverged = self.model.stop_training = True
        elif self.trial.should_prune():
            self.pruned = self.model.stop_training = True


def build_model(build, params, seed, kernels=None):
    """``build(params)``, checked to be an unbuilt compiled Sequential, then seeded; a model
    compiled without a ``kernels`` setting gets ``kernels`` (the search's choice)."""
    model = build(dict(params))
    if not isinstance(model, Sequential):
        raise TypeError(f"build: expected a function returning a compiled gw.Sequential, "
                        f"received {type(model).__name__} from build({params!r})")
    if model.loss is None:
        raise ValueError("build: expected a compiled model; call model.compile(optimizer=..., "
                         "loss=...) before returning it")
    if model.built:
        raise ValueError("build: expected a model not built yet (tune seeds each trial's model "
                         "before its weights are made); do not call model.build() in build")
    model.seed = seed
    if getattr(model, "kernels", None) is None:
        model.kernels = kernels
    return model


class _Search:
    """Everything a trial needs; picklable, so that worker processes can run trials too."""

    def __init__(self, build, space, train, validation, objective, maximize, fit_options, seed):
        self.build, self.space, self.train, self.validation = build, space, train, validation
        self.objective, self.maximize, self.seed = objective, maximize, seed
        self.fit_options = fit_options  # epochs, batch_size, callbacks, class_weight
        self.kernels = None  # "always" or "never": chosen once for the whole search
        self._last_end = time.perf_counter()
        self.warning_registry = {}  # a warning shown once per search, not once per trial
        self.progress = False  # one line per finished trial on stdout (verbose >= 1)
        self._started = time.perf_counter()

    def run(self, study, n_trials, timeout=None):
        """Run ``n_trials`` trials of ``study`` in this process."""
        self._last_end = time.perf_counter()
        study.optimize(self, n_trials=n_trials, timeout=timeout,
                       callbacks=[self.say_progress] if self.progress else None)

    def say_progress(self, study, trial):
        """Optuna callback: one line for a finished trial, with the best so far (trials
        numbered from 0, as Optuna and :meth:`TuningResult.table` number them)."""
        score = trial.user_attrs.get("score")
        state = ("diverged" if trial.user_attrs.get("diverged") else
                 "pruned" if trial.state.name == "PRUNED" else trial.state.name.lower())
        shown = "" if score is None or not math.isfinite(score) else \
            f" {self.objective} {score:.4g}"
        try:
            best = study.best_trial
            best = f"; best {best.value:.4g} (trial {best.number})"
        except ValueError:  # no trial complete yet
            best = ""
        print(f"trial {trial.number} {state}{shown} after "
              f"{trial.user_attrs.get('epochs', 0)} epochs{best}; "
              f"{time.perf_counter() - self._started:.1f} s", flush=True)

    def __call__(self, trial):
        """The Optuna objective: build, train, report each epoch, return the best score."""
        try:
            return self._trial(trial)
        finally:
            self._last_end = time.perf_counter()

    def _trial(self, trial):
        optuna = import_optuna()
        params = {name: dimension.suggest(trial, name) for name, dimension in self.space.items()}
        # From the end of the previous trial to here: telling Optuna the result, then the
        # sampler choosing this trial's point (relative sampling runs before the objective).
        trial.set_user_attr("choice_seconds", time.perf_counter() - self._last_end)
        # The seed, as a random search's point (TrialSeededRandomSampler), is a function of
        # the trial's number alone: the same pairs in every run, whatever the processes.
        seed = derive_seed(self.seed, TRIAL_STREAM, trial.number)
        trial.set_user_attr("seed", seed)
        model = build_model(self.build, params, seed, self.kernels)
        reporter = _EpochReporter(trial, self.objective)
        history = self._fit(model, params, reporter).history
        finite = [v for v in history.get(self.objective, []) if math.isfinite(v)]
        score = (max if self.maximize else min)(finite) if finite else math.nan
        trial.set_user_attr("score", score)
        trial.set_user_attr("epochs", len(history.get("loss", [])))
        if reporter.diverged or not finite:
            trial.set_user_attr("diverged", True)
            raise optuna.TrialPruned(f"{self.objective} or the loss became NaN or infinite")
        if reporter.pruned:
            raise optuna.TrialPruned(f"{self.objective} worse than the median of earlier trials")
        return score

    def _fit(self, model, params, reporter):
        """Train; the warnings of a diverging trial (overflow, NaN loss) are expected and
        dropped, those of other trials are passed on."""
        options = dict(self.fit_options)
        options["batch_size"] = params.get("batch_size", options["batch_size"])
        options["callbacks"] = [*options["callbacks"], reporter]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model.fit(*self.train, validation_data=self.validation, verbose=0, **options)
            except TrainingDiverged as diverged:  # TPE ranks NaN last at the epoch it stopped
                reporter.diverged = True
                reporter.trial.report(math.nan, diverged.epoch)
        if not reporter.diverged:
            for warning in caught:
                warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                       warning.lineno, registry=self.warning_registry)
        return model.history

    def probe(self):
        """Call ``build`` on the center of the space, before any training: checks what it
        returns, the objective's name and the data (as ``fit`` would), and estimates one
        trial's saving from the compiled kernels (see :mod:`gradwise.backend.kernels`)."""
        center = {name: dimension.center() for name, dimension in self.space.items()}
        model = build_model(self.build, center, seed=0)
        known = ["val_loss"] + [f"val_{metric.__name__}" for metric in model.metrics]
        if self.objective not in known:
            raise ValueError(f"Expected objective {' or '.join(map(repr, known))} (the model's "
                             f"loss and metrics on validation_data), received "
                             f"objective={self.objective!r}")
        _, y, _ = prepare(model, *self.train)  # builds the model on the data, checking X and y
        apply_class_weight(self.fit_options["class_weight"], y, None)
        prepare_validation(model, self.validation)
        n_train = len(self.train[0])
        batch = min(center.get("batch_size", self.fit_options["batch_size"]) or n_train, n_train)
        return expected_saving(model, self.fit_options["epochs"] * math.ceil(n_train / batch),
                               batch)


def _check_choice(value, argument, allowed):
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"Expected {argument} {' or '.join(map(repr, allowed))}, received "
                         f"{argument}={value!r}")
    return value


def _check_batch_dimension(space):
    dimension = space.get("batch_size")
    if dimension is None:
        return
    positive = (isinstance(dimension, IntUniform) and dimension.low >= 1) or (
        isinstance(dimension, Choice) and all(
            v is None or (isinstance(v, int) and not isinstance(v, bool) and v > 0)
            for v in dimension.choices))
    if not positive:
        raise ValueError(f"space['batch_size']: expected IntUniform with low >= 1 or Choice of "
                         f"positive integers (or None), received {dimension!r}")


def _check_storage(storage, study_name):
    if storage is not None and (not isinstance(storage, str) or "://" not in storage):
        raise ValueError(f"Expected storage None or a database URL such as 'sqlite:///tuning.db' "
                         f"or 'postgresql://user:password@host/db', received storage={storage!r}")
    if not isinstance(study_name, str) or not study_name:
        raise ValueError(f"Expected a non-empty study_name, received study_name={study_name!r}")
    if storage is not None:
        check_database(storage, "storage")


def _check_options(n_trials, sampler, objective, mode, epochs, batch_size, callbacks, pruning,
                   n_jobs, seed, timeout):
    """Validate the scalar options; returns ``(n_jobs, seed, direction)``."""
    check_positive_int(n_trials, "n_trials")
    _check_choice(sampler, "sampler", SAMPLERS)
    if not isinstance(objective, str) or not objective.startswith("val_"):
        raise ValueError(f"Expected objective 'val_loss' or 'val_<metric>' (measured on "
                         f"validation_data), received objective={objective!r}")
    direction = _monitor_mode(objective, mode)
    check_positive_int(epochs, "epochs")
    check_positive_int(batch_size, "batch_size", allow_none=True)
    if callbacks is not None and (not isinstance(callbacks, (list, tuple))
                                  or not all(isinstance(c, Callback) for c in callbacks)):
        raise TypeError(f"callbacks: expected a list of Callback instances, received {callbacks!r}")
    if not isinstance(pruning, bool):
        raise TypeError(f"Expected True or False, received pruning={pruning!r}")
    if n_jobs != -1:
        check_positive_int(n_jobs, "n_jobs")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                             or seed < 0):
        raise ValueError(f"Expected a non-negative integer or None, received seed={seed!r}")
    check_positive_number(timeout, "timeout", allow_none=True)
    if n_jobs == -1:
        from joblib import cpu_count
        n_jobs = cpu_count()
    seed = int(np.random.SeedSequence().generate_state(1)[0]) if seed is None else int(seed)
    return n_jobs, seed, direction


def tune(build, space, X, y, validation_data, *, n_trials=20, sampler="bayesian",
         objective="val_loss", mode="auto", epochs=20, batch_size=32, callbacks=None, pruning=True,
         n_jobs=1, seed=0, timeout=None, verbose=0, storage=None, study_name=STUDY_NAME,
         class_weight=None, strategy="direct", pruner="median"):
    """Search hyperparameters: random search or Bayesian optimization (TPE or a Gaussian
    process), directly or coarse to fine, with pruning.

    Each trial draws a point of ``space``, calls ``build(params)`` for a compiled model, seeds
    it, trains it on ``(X, y)`` and scores it on ``validation_data`` (the dev set).

    Parameters
    ----------
    build : callable ``params -> Sequential``
        Returns a compiled, not yet built ``Sequential`` for a dict of parameters. Its ``seed``
        is replaced by the trial's seed. Called once more up front, on the center of the
        space, to check what it returns before any training.
    space : dict {name: dimension}
        ``Uniform``, ``LogUniform``, ``IntUniform`` or ``Choice`` per parameter. A
        ``"batch_size"`` dimension also sets ``fit``'s batch size.
    X : array of shape (n_samples, n_features)
    y : array of shape (n_samples,) or (n_samples, n_outputs)
    validation_data : tuple (X_dev, y_dev)
    n_trials : int, default 20
    sampler : {"bayesian", "random", "gp"}, default "bayesian"
        ``"random"``: independent draws (Optuna's RandomSampler). ``"bayesian"``: Optuna's
        TPE sampler, random for the first ``max(2, min(10, n_trials // 3))`` trials, then
        drawing where the best trials so far are dense. ``"gp"``: a Gaussian process with
        expected improvement (:class:`~gradwise.tuning.GPSampler`, scikit-learn and SciPy),
        random for the first ``max(5, 2 * len(space))`` trials; needs a numeric dimension
        and a budget beyond the random start.
    objective : str, default "val_loss"
        ``"val_loss"`` or ``"val_<metric>"`` for a metric of the compiled model. The loss
        includes the regularization penalty (as in Keras), which favours small
        regularization strengths: when tuning those, prefer a metric (``"val_accuracy"``).
    mode : {"auto", "min", "max"}
        Whether the objective is minimized; ``"auto"`` maximizes accuracies, AUC, R2, F1,
        precision and recall, and minimizes the rest (as ``EarlyStopping``).
    epochs, batch_size : int, default 20 and 32
        Passed to each trial's ``fit``.
    callbacks : list of Callback, optional
        Passed to each trial's ``fit`` (e.g. ``EarlyStopping``); the same objects serve every
        trial, so they must reset themselves in ``on_train_begin`` (the built-in ones do).
    pruning : bool, default True
        Stop hopeless trials early with ``pruner``; False runs every trial to the end.
    pruner : {"median", "hyperband", "successive_halving"}, default "median"
        ``"median"``: stop trials whose objective is worse than the median of the completed
        trials at the same epoch (Optuna's MedianPruner, once 5 trials have completed, from
        the 2nd epoch). ``"successive_halving"``: at epochs 1, 3, 9, ... keep the best third
        of the trials that got there (Optuna's SuccessiveHalvingPruner). ``"hyperband"``:
        several such brackets with different starting epochs, up to ``epochs`` (Optuna's
        HyperbandPruner).
    strategy : {"direct", "coarse_to_fine"}, default "direct"
        ``"coarse_to_fine"``: the first half of the trials on the whole space, the second half
        drawn (by the same kind of sampler, in the same study) from the space narrowed around
        the best quarter of the complete coarse trials (at least 3) by :func:`narrow` with a
        margin of 0.1, on each dimension's scale; choices keep all their values.
    n_jobs : int, default 1
        Trials run at once; -1 for every core. Above 1 the trials run in worker processes of
        one BLAS thread each, so ``build`` and ``callbacks`` must be picklable (cloudpickle:
        lambdas and closures are fine).
    seed : int or None, default 0
        Seeds the sampler and every trial's model (from ``seed`` and the trial number): with
        ``n_jobs=1`` the same seed gives the same trials and scores, and a random search
        without pruning gives trial ``n`` the same point and seed whatever ``n_jobs`` (TPE,
        the GP and the pruner see whichever trials the other workers have finished), and the
        same score bit for bit when the BLAS threads agree too (workers run one: call
        ``gw.set_num_threads(1)`` before an ``n_jobs=1`` search).
        None draws a fresh seed.
    timeout : float, optional
        Seconds after which no new trial starts.
    verbose : int, default 0
        1 prints one line per finished trial (its state, score and the best so far); 2 adds
        Optuna's own lines; 0 leaves only warnings.
    storage : str, optional
        A database URL (``"sqlite:///tuning.db"``, ``"postgresql://user:password@host/db"``
        with the ``[postgres]`` extra) that keeps the study: a later call with the same
        ``study_name`` resumes it (trial numbers, seeds and sampler draws carry on), and
        searches on several machines pointed at one server share it (give each machine its
        own ``seed``). The result then holds every trial of the study. A trial whose process
        died (killed, its machine lost) is marked FAILED by the next trial started on the study
        after ``GRACE_SECONDS`` (300) without its heartbeat (Optuna's, every 60 s). A stored
        study made to optimize in the other direction, or scoring its trials by another
        objective or on another number of input features, is refused (its best trial would
        compare scores that cannot be compared). Default: in memory.
    study_name : str, default "gradwise-tune"
    class_weight : dict or "balanced", optional
        ``{class index: weight}`` or ``"balanced"``, passed to each trial's ``fit``: weights
        classes in the loss, e.g. equally for imbalanced data.

    Returns
    -------
    TuningResult
        ``best_params``, ``best_score``, ``trials``, ``study``, ``table()``.

    Notes
    -----
    A trial's score is the best value of the objective over its epochs (what early stopping
    with ``restore_best_weights`` would keep). A trial whose loss or objective becomes NaN or
    infinite stops and is recorded as ``"diverged"`` (pruned for Optuna, so that TPE learns to
    avoid its region); pruned trials are ``"pruned"``.

    Examples
    --------
    >>> from gradwise import tuning
    >>> space = {"learning_rate": tuning.LogUniform(1e-4, 1e-1),
    ...          "units": tuning.IntUniform(16, 256, log=True)}
    >>> # result = tuning.tune(build, space, X_train, y_train, (X_dev, y_dev), n_trials=30)
    >>> # print(result.table()); result.best_params
    """
    optuna = import_optuna()
    if not callable(build):
        raise TypeError(f"build: expected a callable params -> compiled Sequential, received {build!r}")
    space = check_space(space)
    _check_batch_dimension(space)
    _check_storage(storage, study_name)
    n_jobs, seed, direction = _check_options(n_trials, sampler, objective, mode, epochs, batch_size,
                                             callbacks, pruning, n_jobs, seed, timeout)
    _check_choice(strategy, "strategy", STRATEGIES)
    _check_choice(pruner, "pruner", PRUNERS)
    _check_sampler_space(sampler, space, strategy, n_trials)
    if storage is None:
        _check_gp_budget(sampler, space, n_trials, 0)
    fit_options = {"epochs": epochs, "batch_size": batch_size, "callbacks": list(callbacks or []),
                   "class_weight": class_weight}
    search = _Search(build, space, (X, y), validation_data, objective, direction == "max",
                     fit_options, seed)
    search.progress = verbose >= 1
    processes = min(n_jobs, n_trials)
    # The compute path is chosen once for the whole search (each process runs its share of
    # the trials), so every trial runs the same path whatever its own size.
    use_compiled = _kernels.choose(None, search.probe() * n_trials / processes)
    search.kernels = "always" if use_compiled else "never"
    study_direction = "maximize" if direction == "max" else "minimize"
    with optuna_logging(verbose):
        study = None
        if storage is not None:
            scored = {"objective": objective, "n_features": int(np.shape(X)[1])}
            study = _stored_study(optuna, storage, study_name, study_direction, scored)
            _note_other_space(study, space, study_name)
            _check_gp_budget(sampler, space, n_trials, len(study.trials))
            if study.trials:  # a resumed study carries on: its draws and seeds must not repeat
                seed = derive_seed(seed, SAMPLER_STREAM, len(study.trials))
        search.seed = seed
        plan = Plan(sampler, pruner if pruning else None, n_trials, seed, verbose, study_name,
                    epochs, len(space))
        stages = _stages(plan, strategy, search, direction)
        if processes == 1:
            if study is None:
                study = optuna.create_study(direction=study_direction, study_name=study_name)
            started = {trial.number for trial in study.trials}
            try:
                _run_stages(search, study, stages, timeout)
            except BaseException:  # Ctrl-C even between Optuna's ask and the objective
                if storage is not None:  # a stored study keeps no trial of ours RUNNING
                    _fail_running_here(search, study, started)
                raise
        else:
            from ._parallel import optimize_in_processes
            location = optimize_in_processes(search, study_direction, stages, study_name,
                                             processes, timeout, storage)
            study = optuna.load_study(study_name=study_name, storage=location,
                                      sampler=plan.make_sampler(derive_seed(seed, SAMPLER_STREAM)),
                                      pruner=plan.make_pruner())
    return _result(study, objective, direction, seed, space)


def _check_sampler_space(sampler, space, strategy, n_trials):
    """The GP models numeric dimensions; coarse to fine needs a trial for each stage."""
    if sampler == "gp" and all(isinstance(d, Choice) for d in space.values()):
        raise ValueError(f"sampler='gp': the Gaussian process models numeric dimensions "
                         f"(Uniform, LogUniform, IntUniform); space has only Choice "
                         f"dimensions ({', '.join(space)}). Use sampler='bayesian' or 'random'.")
    if strategy == "coarse_to_fine" and n_trials < 2:
        raise ValueError(f"strategy='coarse_to_fine': expected n_trials >= 2 (a coarse and a "
                         f"fine stage), received n_trials={n_trials}")


def _check_gp_budget(sampler, space, n_trials, n_done):
    """The GP's random start must leave it at least one trial."""
    if sampler != "gp":
        return
    from ._gp import gp_startup_trials
    startup = gp_startup_trials(len(space))
    if n_trials + n_done <= startup:
        done = f" plus the study's {n_done} earlier trials" if n_done else ""
        raise ValueError(f"sampler='gp': starts with max(5, 2 * {len(space)} dimensions) = "
                         f"{startup} random trials, so n_trials={n_trials}{done} leaves none "
                         f"for the Gaussian process; expected n_trials >= "
                         f"{startup - n_done + 1}")


def _stages(plan, strategy, search, direction):
    """``[(n_trials, make_plan)]``: one stage, or the coarse and the fine stage."""
    if strategy == "direct":
        return [(plan.n_trials, lambda study: plan)]
    from ._narrowed import COARSE_SHARE, narrowed_distributions
    coarse = max(1, min(plan.n_trials - 1, round(plan.n_trials * COARSE_SHARE)))

    def fine(study):
        narrowed = narrowed_distributions(search.space, study, search.objective, direction)
        return dataclasses.replace(plan, seed=derive_seed(plan.seed, FINE_STREAM),
                                   narrowed=narrowed)
    return [(coarse, lambda study: plan), (plan.n_trials - coarse, fine)]


def _fail_running_here(search, study, started):
    """Mark FAILED this process's trials of ``study`` left RUNNING: each takes its seed from
    its own number (or has none yet); trials of other machines sharing the study are left."""
    from ._parallel import fail_running
    fail_running(study, started, lambda trial, seed: seed is None or
                 seed == derive_seed(search.seed, TRIAL_STREAM, trial.number))


def _run_stages(search, study, stages, timeout):
    """Run each stage's trials in this process, its sampler and pruner set on ``study``."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for count, make_plan in stages:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            break
        plan = make_plan(study)
        study.sampler = plan.make_sampler(derive_seed(plan.seed, SAMPLER_STREAM))
        study.pruner = plan.make_pruner()
        search.run(study, count, left)


def _note_other_space(study, space, study_name):
    """Warn when the stored study's earlier trials searched other hyperparameters than
    ``space``: Optuna lets a study's space change, but a trial that fixed a hyperparameter by
    leaving it out is compared with trials that searched it."""
    from ..tabular.errors import warn
    earlier = [trial for trial in study.get_trials(deepcopy=False) if trial.params]
    seen = set().union(*(trial.params for trial in earlier))
    added, dropped = [n for n in space if n not in seen], sorted(seen - set(space))
    if not earlier or not (added or dropped):
        return
    change = "; ".join(part for part in (
        f"it adds {', '.join(added)}" if added else "",
        f"it leaves out {', '.join(dropped)}" if dropped else "") if part)
    warn(f"study {study_name!r} holds {len(earlier)} earlier trial(s) over other "
         f"hyperparameters than this search's ({change}), and its best trial is chosen among "
         f"them all", remedy="other-study")


def _stored_study(optuna, storage, study_name, direction, scored):
    """Create or resume ``study_name`` in the database at ``storage``, checked to optimize in
    the same direction and to score its trials the same way: ``scored`` (``{"objective",
    "n_features"}``) is recorded in a new study, and a stored study that recorded another is
    refused (the best trial of a study that mixed two data sets or two objectives would be
    meaningless)."""
    from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError
    for attempt in range(4):  # SQLAlchemy and the driver: checked by _check_storage
        try:
            study = optuna.create_study(storage=database_storage(storage),
                                        study_name=study_name, direction=direction,
                                        load_if_exists=True)
            break
        except (IntegrityError, OperationalError) as error:
            # Two searches creating the same new database at once race on its schema:
            # the loser finds it made, and loads it on the next attempt.
            if attempt == 3:
                raise ValueError(f"storage: cannot open the study {study_name!r}: "
                                 f"{database_message(error)}") from None
            time.sleep(0.2 * (attempt + 1))
        except DatabaseError as error:
            raise ValueError(f"storage: cannot open the study {study_name!r}: "
                             f"{database_message(error)}") from None
    if study.direction.name.lower() != direction:
        raise TableError("study_name", f"the stored study {study_name!r} was made to "
                                       f"{study.direction.name.lower()} its objective; this "
                                       f"search would {direction}", remedy="other-study")
    recorded = study.user_attrs.get(SEARCH_ATTRIBUTE)
    if recorded is None:  # a new study (or one made before gradwise recorded this)
        study.set_user_attr(SEARCH_ATTRIBUTE, scored)
    elif recorded != scored:
        raise TableError("study_name", f"the stored study {study_name!r} scores its trials by "
                                       f"{_scored_words(recorded)}; this search by "
                                       f"{_scored_words(scored)}: their scores cannot be "
                                       f"compared", remedy="other-study")
    return study


#: The study's user attribute that records what its trials are scored by (see _stored_study).
SEARCH_ATTRIBUTE = "gradwise_search"


def _scored_words(scored):
    return f"{scored['objective']} on {scored['n_features']} input features"


def _result(study, objective, direction, seed, space=None):
    trials = trials_from_study(study, space)
    result = TuningResult(None, math.nan, None, trials, study, objective, direction, seed)
    if any(t["state"] == "complete" for t in trials):
        result.best_trial = result.best_trials(1.0)[0]
        result.best_params, result.best_score = result.best_trial["params"], result.best_trial["score"]
    else:
        warnings.warn("No trial completed (all were pruned or diverged): result.best_params is "
                      "None. Try smaller learning rates.", RuntimeWarning, stacklevel=3)
    return result
