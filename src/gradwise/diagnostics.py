"""Diagnosis of a trained model: bias and variance, and the health of its gradients.

``diagnose`` reads the errors on the training, train-dev and dev sets against the human-level
(Bayes) error and names the dominant problem with the next steps of the basic recipe.
``GradientHealth`` is a callback that records, per layer, gradient norms, update-to-weight
ratios, dead ReLU units and saturated sigmoid/tanh units, and warns about vanishing or exploding
gradients.
"""
import dataclasses
import math
import numbers
import warnings

import numpy as np

from . import losses, metrics
from .callbacks import Callback
from ._validation import check_positive_int, check_positive_number

__all__ = ["DiagnosisReport", "diagnose", "diagnose_errors", "GradientHealth", "RECIPE"]

#: Next actions of the basic recipe for each problem.
RECIPE = {
    "high bias": ["train a bigger network (more units or layers)", "train longer",
                  "use a better optimizer (e.g. Adam) or tune the learning rate",
                  "try another architecture", "reduce regularization"],
    "high variance": ["get more training data", "add regularization (L2, dropout)",
                      "use data augmentation", "use early stopping",
                      "try a smaller network or another architecture"],
    "data mismatch": ["make the training data more like the dev data (collect or re-weight)",
                      "synthesize artificial training data resembling the dev distribution",
                      "analyse dev errors by hand to understand the difference"],
    "good fit": ["check the test error once, then ship or raise the target"],
}
_CLASSIFICATION = (losses.BinaryCrossentropy, losses.CategoricalCrossentropy)


@dataclasses.dataclass
class DiagnosisReport:
    """Errors, gaps, the dominant problem and the recommended actions.

    Attributes
    ----------
    metric : str
        ``"error rate"`` (1 - accuracy) for classification, else the loss name.
    train_error, dev_error : float
    train_dev_error, human_error : float or None
    avoidable_bias : float
        ``train_error - human_error`` (``- 0`` when no human error is given).
    variance : float
        ``train_dev_error - train_error`` with a train-dev set, else ``dev_error - train_error``.
    data_mismatch : float or None
        ``dev_error - train_dev_error`` (train-dev set only).
    problem : str
        ``"high bias"``, ``"high variance"``, ``"data mismatch"`` or ``"good fit"``.
    problems : list of str
        Every gap above ``tolerance``, largest first.
    recommendations : list of str
    notes : list of str
    tolerance : float
    """

    metric: str
    train_error: float
    dev_error: float
    train_dev_error: float | None
    human_error: float | None
    avoidable_bias: float
    variance: float
    data_mismatch: float | None
    problem: str
    problems: list
    recommendations: list
    notes: list
    tolerance: float

    def __str__(self):
        def row(label, value):
            return f"  {label:<26}{'-' if value is None else f'{value:.4f}'}"
        lines = [f"Bias/variance diagnosis ({self.metric})",
                 row("human/Bayes error", self.human_error), row("training error", self.train_error),
                 row("train-dev error", self.train_dev_error), row("dev error", self.dev_error),
                 row("avoidable bias", self.avoidable_bias), row("variance", self.variance),
                 row("data mismatch", self.data_mismatch),
                 f"  dominant problem: {self.problem.upper()}"
                 + (f" (also: {', '.join(self.problems[1:])})" if len(self.problems) > 1 else ""),
                 "  next actions:"]
        lines += [f"    - {action}" for action in self.recommendations]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def _check_pair(data, argument):
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{argument}: expected an (X, y) tuple, received {type(data).__name__}.")
    return data


def _error(model, data, argument):
    """1 - accuracy for cross-entropy losses, the loss (without penalty) otherwise."""
    X, y = _check_pair(data, argument)
    outputs = model.predict(X)
    try:
        targets = model.loss.prepare_targets(y, model.output_dim, model.dtype)
    except ValueError as error:
        raise ValueError(f"{argument}: {error}") from None
    if len(targets) != len(outputs):
        raise ValueError(f"{argument}: X and y have different numbers of samples: "
                         f"{len(outputs)} and {len(targets)}.")
    if isinstance(model.loss, _CLASSIFICATION):
        return 1.0 - metrics.accuracy(targets, outputs)
    return float(model.loss(targets, outputs))


def diagnose(model, train, dev, human_error=None, train_dev=None, tolerance=None):
    """Bias/variance (and data mismatch) diagnosis of a compiled, trained model.

    Parameters
    ----------
    model : Sequential
        Compiled and built (trained).
    train, dev : tuple (X, y)
        ``X`` of shape (n_samples, n_features), ``y`` as accepted by the model's loss.
    human_error : float, optional
        Human-level error, the proxy for the Bayes error, in the units of the error.
    train_dev : tuple (X, y), optional
        Held-out data from the *training* distribution; separates variance from data mismatch.
    tolerance : float, optional
        Smallest gap that counts as a problem. Default 0.02 (two points of error rate) for
        classification, 10% of the dev error for regression.

    Returns
    -------
    DiagnosisReport

    Notes
    -----
    Error: ``1 - accuracy`` when the loss is a cross-entropy, otherwise the model's loss (e.g.
    the MSE) without the regularization penalty, so that sets are compared on the data alone.
    ``avoidable bias = train - human``, ``variance = train_dev - train`` (or ``dev - train``
    without a train-dev set), ``data mismatch = dev - train_dev``. The dominant problem is the
    largest gap when it exceeds ``tolerance``, else ``"good fit"``.

    Examples
    --------
    >>> report = diagnose(model, (X_train, y_train), (X_dev, y_dev), human_error=0.01)  # doctest: +SKIP
    >>> print(report)  # doctest: +SKIP
    """
    if getattr(model, "loss", None) is None or not getattr(model, "built", False):
        raise ValueError("model: expected a compiled and trained Sequential; call compile and fit first.")
    classification = isinstance(model.loss, _CLASSIFICATION)
    if human_error is not None:
        if isinstance(human_error, bool) or not isinstance(human_error, numbers.Real):
            raise TypeError(f"Expected a number, received human_error={human_error!r}")
        upper = 1.0 if classification else math.inf
        if not (0.0 <= human_error <= upper):
            raise ValueError(f"Expected a number in [0, {upper}], received human_error={human_error}")
    train_error = _error(model, train, "train")
    dev_error = _error(model, dev, "dev")
    train_dev_error = None if train_dev is None else _error(model, train_dev, "train_dev")
    return diagnose_errors(train_error, dev_error, "error rate" if classification
                           else model.loss.name, human_error, train_dev_error, tolerance)


def diagnose_errors(train_error, dev_error, metric="error rate", human_error=None,
                    train_dev_error=None, tolerance=None):
    """The diagnosis of :func:`diagnose` from errors already measured (the same rules).

    Parameters
    ----------
    train_error, dev_error : float
        ``1 - accuracy`` (``metric="error rate"``) or a loss without penalty, on each set.
    metric : str, default "error rate"
        What the errors are; ``"error rate"`` sets the classification defaults.
    human_error, train_dev_error, tolerance : float, optional
        As in :func:`diagnose`.

    Returns
    -------
    DiagnosisReport
    """
    classification = metric == "error rate"
    train_error, dev_error = float(train_error), float(dev_error)
    train_dev_error = None if train_dev_error is None else float(train_dev_error)
    if tolerance is None:
        tolerance = 0.02 if classification else 0.1 * max(dev_error, 1e-12)
    elif isinstance(tolerance, bool) or not isinstance(tolerance, numbers.Real) or tolerance < 0:
        raise ValueError(f"Expected a non-negative number, received tolerance={tolerance!r}")

    notes = []
    if human_error is None:
        notes.append("no human-level error given: avoidable bias is measured against 0 error, "
                     "an upper bound of the true avoidable bias.")
    avoidable_bias = train_error - (human_error or 0.0)
    if avoidable_bias < 0:
        notes.append("training error is below human level: the human estimate may be too high, "
                     "or the model fits noise in the training set.")
    if train_dev_error is None:
        variance, mismatch = dev_error - train_error, None
        notes.append("no train-dev set: variance and data mismatch cannot be told apart "
                     "(dev - train counts as variance).")
    else:
        variance, mismatch = train_dev_error - train_error, dev_error - train_dev_error
    gaps = {"high bias": avoidable_bias, "high variance": variance, "data mismatch": mismatch}
    problems = sorted((name for name, gap in gaps.items() if gap is not None and gap > tolerance),
                      key=lambda name: -gaps[name])
    problem = problems[0] if problems else "good fit"
    return DiagnosisReport(
        metric=metric,
        train_error=train_error, dev_error=dev_error, train_dev_error=train_dev_error,
        human_error=None if human_error is None else float(human_error),
        avoidable_bias=avoidable_bias, variance=variance, data_mismatch=mismatch,
        problem=problem, problems=problems, recommendations=list(RECIPE[problem]), notes=notes,
        tolerance=float(tolerance))


class GradientHealth(Callback):
    """Records per-layer gradient statistics during ``fit`` and flags vanishing/exploding
    gradients.

    Parameters
    ----------
    every : int, optional
        Record every ``every``-th batch (counted over the run). By default one record per
        epoch, from the epoch's last batch.
    vanishing_ratio : float, default 1e-3
        Flag vanishing when the first trainable layer's ``||dW||`` is below this fraction of
        the last one's.
    vanishing_floor : float, default 1e-8
        Flag vanishing when the first trainable layer's ``||dW||`` is below this.
    exploding_threshold : float, default 1e3
        Flag exploding when any ``||dW||`` exceeds this (or is not finite).
    exploding_growth : float, default 1e3
        Flag exploding when a layer's ``||dW||`` grew by this factor since its first record.
        A layer whose ReLU units are all dead for a recorded batch (``dead_fraction`` 1) is
        flagged too: nothing below it gets a gradient.

    Attributes
    ----------
    records : list of dict
        One per layer per recorded batch: ``epoch``, ``batch``, ``layer``, ``kind``,
        ``grad_norm``, ``weight_norm``, ``update_ratio``, ``dead_fraction``,
        ``saturated_fraction`` (NaN where not applicable).
    flags : list of str
        One message per problem found (also issued once per kind with ``warnings.warn``).

    Notes
    -----
    For a layer with kernel ``W`` (inputs, units) and activations ``A`` (n, units) of the batch:
    ``grad_norm = ||dJ/dW||_F``; ``update_ratio = ||W_after - W_before||_F / ||W_before||_F``
    over the optimizer step (healthy around 1e-3); ``dead_fraction`` (ReLU) is the fraction of
    units with ``A[:, j] == 0`` for every sample; ``saturated_fraction`` is ``mean(|A| > 0.99)``
    for tanh and ``mean((A < 0.01) | (A > 0.99))`` for sigmoid, over samples and units.
    The output layer fused with its loss is not checked for saturation (confident outputs
    are the goal there). Frozen layers have no gradients (NaN).
    """

    def __init__(self, every=None, vanishing_ratio=1e-3, vanishing_floor=1e-8,
                 exploding_threshold=1e3, exploding_growth=1e3):
        super().__init__()
        self.every = check_positive_int(every, "every", allow_none=True)
        self.vanishing_ratio = check_positive_number(vanishing_ratio, "vanishing_ratio")
        self.vanishing_floor = check_positive_number(vanishing_floor, "vanishing_floor")
        self.exploding_threshold = check_positive_number(exploding_threshold, "exploding_threshold")
        self.exploding_growth = check_positive_number(exploding_growth, "exploding_growth")
        self.records, self.flags = [], []

    def on_train_begin(self, logs=None):
        self._names = dict(_named_layers(self.model.layers))
        self._layers = [layer for layer in _nested(self.model.layers)
                        if "W" in layer.params or _activation_name(layer) is not None]
        self._before = {id(l): np.empty_like(l.params["W"]) for l in self._layers if _tracks_update(l)}
        self._step, self._epoch, self._pending = 0, 0, None
        self._first_norms, self._warned = {}, set()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def _due(self, batch):
        """Whether this batch is measured: every ``every``-th step, else the epoch's last batch
        (every batch when the number of steps is unknown, keeping the last)."""
        if self.every is not None:
            return (self._step + 1) % self.every == 0
        steps = getattr(self, "params", {}).get("steps")
        return steps is None or batch == steps - 1

    def on_batch_begin(self, batch, logs=None):
        if not self._due(batch):
            return
        for layer in self._layers:  # one copy of each kernel, to measure the update
            if _tracks_update(layer):
                np.copyto(self._before[id(layer)], layer.params["W"])

    def on_batch_end(self, batch, logs=None):
        due = self._due(batch)
        self._step += 1
        if not due:
            return
        if self.every is None:  # the last batch's statistics, committed at the epoch's end
            self._pending = self._measure(batch)
        else:
            self._commit(self._measure(batch))

    def on_epoch_end(self, epoch, logs=None):
        if self._pending is not None:
            self._commit(self._pending)
            self._pending = None

    def _measure(self, batch):
        rows = []
        for layer in self._layers:
            row = {"epoch": self._epoch, "batch": batch, "layer": self._names[id(layer)],
                   "kind": _activation_name(layer) or type(layer).__name__,
                   "grad_norm": math.nan, "weight_norm": math.nan, "update_ratio": math.nan,
                   "dead_fraction": math.nan, "saturated_fraction": math.nan}
            if "W" in layer.params:
                row["weight_norm"] = float(np.linalg.norm(layer.params["W"]))
            if _tracks_update(layer):
                before = self._before[id(layer)]
                row["grad_norm"] = float(np.linalg.norm(layer.grads["W"]))
                row["update_ratio"] = float(np.linalg.norm(layer.params["W"] - before)
                                            / max(np.linalg.norm(before), 1e-30))
            row.update(_activation_stats(layer))
            rows.append(row)
        return rows

    def _commit(self, rows):
        self.records.extend(rows)
        names = {self._names[id(layer)] for layer in self._layers if _tracks_update(layer)}
        tracked = [r for r in rows if r["layer"] in names]
        if not tracked:
            return
        where = f"epoch {rows[0]['epoch'] + 1}, batch {rows[0]['batch'] + 1}"
        first, last = tracked[0]["grad_norm"], tracked[-1]["grad_norm"]
        for row in rows:  # no unit of the layer passes anything on, for any row
            if row["dead_fraction"] == 1.0:
                self._flag("dead", f"{where}: dead layer: every ReLU unit of {row['layer']} "
                           f"outputs 0 for every row of the batch, so no gradient reaches the "
                           f"layers below it (lower the learning rate, use He initialization, "
                           f"or a leaky ReLU)")
        if math.isfinite(first) and math.isfinite(last) and len(tracked) > 1 and (
                first < self.vanishing_ratio * last or first < self.vanishing_floor):
            ratio = (f", {first / last:.1e} x that of {tracked[-1]['layer']} ({last:.2e})"
                     if last > 0 else f", as is that of {tracked[-1]['layer']}")
            self._flag("vanishing", f"{where}: vanishing gradients: ||dW|| of "
                       f"{tracked[0]['layer']} is {first:.2e}{ratio}")
        for row in tracked:
            norm = row["grad_norm"]
            start = self._first_norms.setdefault(row["layer"], norm)
            if not math.isfinite(norm) or norm > self.exploding_threshold or (
                    start > 0 and norm > self.exploding_growth * start):
                self._flag("exploding", f"{where}: exploding gradients: ||dW|| of {row['layer']} "
                           f"is {norm:.2e} (first recorded {start:.2e})")

    def _flag(self, kind, message):
        self.flags.append(message)
        if kind not in self._warned:  # one warning per kind; every case is in ``flags``
            self._warned.add(kind)
            warnings.warn(f"GradientHealth: {message}", RuntimeWarning, stacklevel=2)

    def vanishing(self):
        """True when vanishing gradients were flagged."""
        return any("vanishing" in flag for flag in self.flags)

    def exploding(self):
        """True when exploding gradients were flagged."""
        return any("exploding" in flag for flag in self.flags)

    def dead(self):
        """True when a layer whose ReLU units were all dead for a recorded batch was flagged."""
        return any("dead layer" in flag for flag in self.flags)

    def table(self, epoch=None):
        """A printable per-layer table of the last record (or of ``epoch``, 0-based)."""
        if not self.records:
            return "GradientHealth: nothing recorded yet (pass the callback to fit)."
        epoch = self.records[-1]["epoch"] if epoch is None else epoch
        chosen = [r for r in self.records if r["epoch"] == epoch]
        if not chosen:
            raise ValueError(f"epoch: no record for epoch={epoch}")
        last_batch = chosen[-1]["batch"]
        chosen = [r for r in chosen if r["batch"] == last_batch]
        header = ("layer", "activation", "||dW||", "||W||", "update/W", "dead ReLU", "saturated")
        rows = [(r["layer"], r["kind"], *(_fmt(r[k], k) for k in (
            "grad_norm", "weight_norm", "update_ratio", "dead_fraction", "saturated_fraction")))
            for r in chosen]
        widths = [max(len(h), *(len(row[i]) for row in rows)) + 2 for i, h in enumerate(header)]
        lines = [f"Gradient health (epoch {epoch + 1}, batch {last_batch + 1})",
                 "".join(h.ljust(w) for h, w in zip(header, widths))]
        lines += ["".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
        lines += [f"flag: {flag}" for flag in self.flags[-5:]] or ["no flags"]
        return "\n".join(lines)

    def get_config(self):
        return {"every": self.every, "vanishing_ratio": self.vanishing_ratio,
                "vanishing_floor": self.vanishing_floor,
                "exploding_threshold": self.exploding_threshold,
                "exploding_growth": self.exploding_growth}


def _nested(layers):
    """The layers in order, a block's layers (``Residual``) in place of the block."""
    for layer in layers:
        inner = getattr(layer, "layers", None)
        if isinstance(inner, list):
            yield from _nested(inner)
        else:
            yield layer


def _named_layers(layers, prefix=""):
    """``(id(layer), name)`` for every layer, those inside a block as ``"block/layer"``."""
    for layer in layers:
        yield id(layer), prefix + layer.name
        inner = getattr(layer, "layers", None)
        if isinstance(inner, list):
            yield from _named_layers(inner, f"{prefix}{layer.name}/")


def _tracks_update(layer):
    return layer.trainable and "W" in layer.params


def _activation_name(layer):
    activation = getattr(layer, "activation", None)
    return None if activation is None else activation.name


def _activation_stats(layer):
    """Dead-ReLU and saturation fractions of the layer's last training-batch output."""
    name, a = _activation_name(layer), getattr(layer, "_a", None)
    if a is None or getattr(layer, "fused_output", False):
        return {}
    if name == "relu":
        return {"dead_fraction": float(np.mean(~np.any(a > 0, axis=0)))}
    if name == "tanh":
        return {"saturated_fraction": float(np.mean(np.abs(a) > 0.99))}
    if name == "sigmoid":
        return {"saturated_fraction": float(np.mean((a < 0.01) | (a > 0.99)))}
    return {}


def _fmt(value, key):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if key in ("dead_fraction", "saturated_fraction"):
        return f"{value:.1%}"
    return f"{value:.2e}"
