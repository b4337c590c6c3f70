"""The results of ``gradwise train`` and ``tune``: the scores table, the note on a rare class
and the bias/variance diagnosis."""
import dataclasses

from . import data as _cli_data
from .guard import shown


def scores(model, data):
    """Each split's scores (see ``_cli_data.split_scores``), by split name."""
    named = list(zip(("train", "dev", "test"), data.splits))
    if data.train_dev is not None:
        named.insert(1, ("train-dev", data.train_dev))
    return {name: _cli_data.split_scores(model, data, Xs, ys) for name, (Xs, ys) in named}


def print_table(first, rows):
    """``rows`` maps a row name to ``{column: value}``, the same columns in every row."""
    width = max(6, *map(len, rows))
    print(f"\n{first:<{width}}" + "".join(f" {column:>10}" for column in next(iter(rows.values()))))
    for name, scores in rows.items():
        print(f"{name:<{width}}" + "".join(f" {value:>10.4f}" for value in scores.values()))


def imbalance_note(data, args):
    """Say when a rare class makes accuracy a poor guide, and which class the two-class scores
    treat as positive."""
    if data.task != "classification":
        return
    index, share, ratio = _cli_data.rare_class(data)
    label = _cli_data.label_text(data.classes[index])
    if data.outputs == 2:
        print(f"(roc_auc and avg_prec take the rarer class {shown(label)} as positive)")
    if ratio >= 5:
        read = "bal_acc, macro_f1 and avg_prec" if data.outputs == 2 else "bal_acc and macro_f1"
        advice = "" if args.class_weight == "balanced" else (
            "; --class-weight balanced weights the classes equally in the loss")
        print(f"note: class {shown(label)} is {share:.1%} of the training rows ({ratio:.0f} times "
              f"rarer than the most common), so accuracy says little: read {read}{advice}.")


#: The basic recipe's steps (``gradwise.diagnostics.RECIPE``) worded with the command's options;
#: its network already trains with Adam, so the optimizer step is the learning rate alone.
ADVICE = {
    "train a bigger network (more units or layers)":
        "train a bigger network (more units or layers: --hidden)",
    "train longer": "train longer (--epochs, --patience)",
    "use a better optimizer (e.g. Adam) or tune the learning rate":
        "tune the learning rate (--learning-rate, or gradwise tune)",
    "reduce regularization": "reduce regularization (--l2, --dropout)",
    "add regularization (L2, dropout)": "add regularization (--l2, --dropout)",
}


def diagnosis_line(model, data, args, table, stopped_early=False):
    """Bias or variance, from the training and dev errors of the scores ``table`` (see
    :func:`scores`; not for imbalanced classes, whose error rate hides the rare class).

    After early stopping (``stopped_early``: the dev loss stopped improving) "train longer" is
    not advised; high bias measured against 0 error names ``--human-error``. Returns the
    diagnosis with the advice as printed (for the report), or, when none is made, the line
    saying why (the report shows the same)."""
    from ..diagnostics import diagnose_errors
    if data.task == "classification" and _cli_data.rare_class(data)[2] >= 5:
        index, share, _ = _cli_data.rare_class(data)
        label = _cli_data.label_text(data.classes[index])
        unused = ("" if args.human_error is None else
                  "; --human-error, an error rate, is not used")
        line = (f"diagnosis: not made from the error rate, which says little when class "
                f"{shown(label)} is {share:.1%} of the rows: read bal_acc and macro_f1 instead "
                f"(low on train: bias; much lower on dev than on train: variance){unused}")
        print(line)
        return line
    report = diagnose_errors(
        table["train"].error, table["dev"].error,
        "error rate" if data.task == "classification" else model.loss.name,
        human_error=args.human_error,
        train_dev_error=table["train-dev"].error if "train-dev" in table else None)
    error = "error rate" if data.task == "classification" else "MSE of standardized targets"
    human = "" if args.human_error is None else f"human {args.human_error:.4g}, "
    train_dev = ("" if data.train_dev is None else
                 f"train-dev {report.train_dev_error:.4f}, ")
    line = (f"diagnosis ({error}: {human}train {report.train_error:.4f}, {train_dev}dev "
            f"{report.dev_error:.4f}): {report.problem}")
    report = dataclasses.replace(report, recommendations=[
        ADVICE.get(step, step) for step in report.recommendations
        if not (stopped_early and step == "train longer")])
    if report.problem != "good fit":
        line += "; next: " + "; ".join(report.recommendations[:2])
    if report.problem == "high bias" and args.human_error is None:
        line += (" (bias measured against 0 error: if people, or the best model, err as often, "
                 "give that error with --human-error)")
    print(line)
    return report


def check_human_error(args, data):
    value = args.human_error
    if value is None:
        return
    upper = 1.0 if data.task == "classification" else float("inf")
    if not 0 <= value <= upper:
        expected = "an error rate in [0, 1]" if upper == 1.0 else "an MSE >= 0"
        raise ValueError(f"--human-error: expected {expected}, received {value!r}.")
