"""The HTML page of a variational autoencoder: one self-contained file, plots as inline SVG.

Sections: the network, the training curves, the held-out evidence lower bound split into its
reconstruction and KL terms (nats per row, beside the bound of a model that knows nothing),
held-out rows beside their reconstructions, a grid of generated rows and, for a code of two
numbers, the held-out codes and a walk through the code space: the decoder on a grid of codes
at the standard normal's quantiles (Kingma and Welling, 2014, figure 4). With ``image_shape``
the rows are drawn as images, otherwise as heat maps (one line per row).

Examples
--------
>>> # vae = gw.VariationalAutoencoder(encoder_units=(128,), latent_dim=2, seed=0)
>>> # vae.compile(optimizer="adam").fit(X_train, epochs=100, verbose=0)
>>> # gw.report.write_vae_report("vae.html", vae, X_test, image_shape=(8, 8))
"""
import html
import math
import os

import numpy as np

from .._validation import check_positive_int
from .pieces import _STYLE, _pre, _pyplot, _section, _svg, _table, model_summary

#: Widest a page's figure is drawn, in inches (the page is about 10 inches wide).
_MAX_WIDTH = 9.0


def write_vae_report(path, vae, X_test, **options):
    """Write :func:`vae_report`'s HTML to ``path`` atomically; returns ``path``.

    Everything is computed before the file is opened, and the file is written to a temporary
    name renamed into place, so a failure never leaves a partial report.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a file name, received {type(path).__name__}.")
    from ..io.files import atomic_write
    page = vae_report(vae, X_test, **options).encode("utf-8")
    atomic_write(path, lambda file: file.write(page), suffix=".html")
    return path


def vae_report(vae, X_test, image_shape=None, title="gradwise variational autoencoder report",
               data_description=None, labels=None, n_reconstructions=10, n_generated=64,
               walk_steps=12, n_elbo_samples=20, seed=0):
    """The report as an HTML string; the same inputs and ``seed`` give the same bytes.

    Parameters
    ----------
    vae : VariationalAutoencoder
        Fitted (or loaded from a file).
    X_test : array of shape (n_samples, n_features)
        Held-out rows, not used in training.
    image_shape : (int, int), optional
        ``(height, width)`` of a row seen as a grey-level image, with
        ``height * width == n_features``; rows are then drawn as images, else as heat maps.
    title, data_description : str, optional
    labels : array of shape (n_samples,), optional
        A known class per held-out row: colours the held-out codes (code of two numbers).
    n_reconstructions : int, default 10
        Held-out rows (the first ones) shown beside their reconstructions.
    n_generated : int, default 64
        Rows generated from codes drawn from ``N(0, I)``, shown as a square grid.
    walk_steps : int, default 12
        The latent walk decodes a ``walk_steps`` x ``walk_steps`` grid of codes.
    n_elbo_samples : int, default 20
        Codes drawn per held-out row to estimate the ELBO (:meth:`VariationalAutoencoder.elbo`).
    seed : int, default 0
        Seeds the codes drawn for the ELBO and for the generated rows.

    Notes
    -----
    Per held-out row ``x`` with ``q(z | x) = N(mu, diag(exp(v)))``, in nats:
    ``ELBO = E_q[log p(x | z)] - KL``, ``KL = 0.5 * sum_j (mu_j^2 + exp(v_j) - 1 - v_j)`` in
    closed form, the expectation averaged over ``n_elbo_samples`` draws. The page reports the
    means over the rows of the ELBO, of ``KL`` and of the reconstruction term
    ``-E_q[log p(x | z)] = -(ELBO + KL)``. For ``reconstruction="bernoulli"`` a model that
    knows nothing (each feature 1 with probability 1/2) has ``log p(x) = -n_features log 2``.
    The latent walk decodes the codes ``(Phi^-1(p_a), Phi^-1(p_b))`` for ``p`` evenly spaced in
    [0.05, 0.95], ``Phi^-1`` the standard normal's quantile function: equal steps of
    probability under the prior.
    """
    X, shape, options = _check(vae, X_test, image_shape, labels, n_reconstructions,
                               n_generated, walk_steps, n_elbo_samples, seed)
    plt = _pyplot()
    rows, features = X.shape
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if data_description:
        parts.append(f"<p>{html.escape(data_description)}</p>")
    facts = (f"A code of {vae.latent_dim} number(s), likelihood p(x | z) "
             f"{vae.reconstruction}, beta {vae.beta:g}; evaluated on {rows} held-out rows of "
             f"{features} features" + (f" ({shape[0]} x {shape[1]} images)." if shape else "."))
    parts += _section("Network", f"<p>{html.escape(facts)}</p>" + _pre(model_summary(vae.model)))
    parts += _section("Training curves", _training_curves(plt, vae.model.history))
    parts += _section("Held-out evidence lower bound", _elbo_table(vae, X, options))
    count = min(options["n_reconstructions"], rows)
    parts += _section(f"Reconstructions of {count} held-out rows",
                      _reconstructions(plt, vae, X[:count], shape))
    generated = vae.sample(options["n_generated"], seed=options["seed"])
    parts += _section(f"{options['n_generated']} generated rows",
                      _generated(plt, vae, generated, shape, options["seed"]))
    if vae.latent_dim == 2:
        parts += _section("Held-out codes", _codes(plt, vae, X, labels))
        parts += _section("A walk through the code space",
                          _walk(plt, vae, options["walk_steps"], shape))
    else:
        parts += _section("A walk through the code space",
                          f"<p>Drawn for a code of 2 numbers; this one has {vae.latent_dim}.</p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


# -- checks ----------------------------------------------------------------------------------
def _check(vae, X_test, image_shape, labels, n_reconstructions, n_generated, walk_steps,
           n_elbo_samples, seed):
    from ..autoencoder import VariationalAutoencoder
    if not isinstance(vae, VariationalAutoencoder):
        raise TypeError(f"vae: expected a gw.VariationalAutoencoder, received "
                        f"{type(vae).__name__}.")
    loaded = "variational_autoencoder" in vae.model.metadata
    if not vae.model.built or (vae.model.history is None and not loaded):
        raise ValueError("vae: the variational autoencoder is not fitted; call "
                         "vae.fit(X_train) first (or load one with "
                         "gw.VariationalAutoencoder.load).")
    X = vae._check(X_test, "X_test")  # width, finite values, [0, 1] for a Bernoulli likelihood
    features = X.shape[1]
    shape = None
    if image_shape is not None:
        try:
            shape = tuple(int(side) for side in image_shape)
            valid = (len(shape) == 2 and min(shape) > 0
                     and all(float(side) == int(side) for side in image_shape))
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise ValueError(f"image_shape: expected (height, width), two positive integers, "
                             f"received {image_shape!r}.")
        if shape[0] * shape[1] != features:
            raise ValueError(f"image_shape: {shape[0]} x {shape[1]} = {shape[0] * shape[1]} "
                             f"pixels, but the rows have {features} features; expected "
                             f"height * width == {features}.")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(X),):
            raise ValueError(f"labels: expected one label per row of X_test ({len(X)}), "
                             f"received shape {labels.shape}.")
    options = {name: check_positive_int(value, name) for name, value in (
        ("n_reconstructions", n_reconstructions), ("n_generated", n_generated),
        ("walk_steps", walk_steps), ("n_elbo_samples", n_elbo_samples))}
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, received {seed!r}.")
    options["seed"] = int(seed)
    return X, shape, options


# -- sections --------------------------------------------------------------------------------
def _training_curves(plt, history):
    curves = getattr(history, "history", None) or {}
    if not curves.get("loss"):
        return "<p>No training history: the autoencoder was loaded from a file.</p>"
    figure, axis = plt.subplots(figsize=(5.5, 3.2))
    epochs = np.arange(1, len(curves["loss"]) + 1)
    axis.plot(epochs, curves["loss"], label="training batches (one code drawn per row)")
    if curves.get("val_loss"):
        axis.plot(epochs, curves["val_loss"], label="validation (code means)")
    axis.set(xlabel="epoch", ylabel="negative ELBO per row (nats)")
    axis.legend(fontsize=8)
    note = ("<p>The training loss: the negative ELBO per row with the KL term weighted by "
            "beta, averaged over the epoch's batches while the weights changed.</p>")
    return _svg(plt, figure) + note


def elbo_terms(vae, X, n_samples, seed):
    """Each row's ELBO, reconstruction term ``-E_q[log p(x | z)]`` and KL term, in nats
    (float64 arrays of shape (n_rows,)), from the autoencoder's own :meth:`elbo` and
    :meth:`encode`; ``ELBO = -reconstruction - KL``."""
    elbo = vae.elbo(X, n_samples=n_samples, seed=seed)
    mu, log_var = vae.encode(X, return_log_variance=True)
    mu, log_var = mu.astype(np.float64), log_var.astype(np.float64)
    kl = 0.5 * np.sum(mu**2 + np.exp(log_var) - 1.0 - log_var, axis=1)
    return elbo, -(elbo + kl), kl


def _elbo_table(vae, X, options):
    n_samples, seed = options["n_elbo_samples"], options["seed"]
    elbo, reconstruction, kl = elbo_terms(vae, X, n_samples, seed)
    rows = [("ELBO, a lower bound on log p(x)", f"{elbo.mean():.4f}", f"{elbo.std():.4f}"),
            ("reconstruction term -E_q[log p(x | z)]", f"{reconstruction.mean():.4f}",
             f"{reconstruction.std():.4f}"),
            ("KL(q(z | x) || N(0, I))", f"{kl.mean():.4f}", f"{kl.std():.4f}")]
    note = (f"Averaged over the {len(X)} held-out rows, with {n_samples} code(s) drawn per row "
            f"(seed {seed}); ELBO = -(reconstruction term) - KL, beta not applied.")
    if vae.reconstruction == "bernoulli":
        baseline = -X.shape[1] * math.log(2.0)
        rows.append(("log p(x) of a model that knows nothing (each feature 1 with "
                     "probability 1/2)", f"{baseline:.4f}", "-"))
        note += (f" The ELBO is {elbo.mean() - baseline:.4f} nats per row above the bound of a "
                 "model that knows nothing.")
    return (_table(("nats per row", "mean", "std over rows"), rows)
            + f"<p>{html.escape(note)}</p>")


def _reconstructions(plt, vae, X, shape):
    reconstructed = vae.reconstruct(X)
    if shape is not None:
        figure = _image_grid(plt, np.concatenate([X, reconstructed]), shape, 2, vae,
                             row_names=("held-out", "reconstructed"))
    else:
        figure = _heat_maps(plt, vae, [("held-out rows", X), ("reconstructions", reconstructed)])
    return _pixels(plt, figure) + ("<p>Each held-out row is encoded to the mean of q(z | x) and "
                                "decoded to the mean of p(x | z).</p>")


def _generated(plt, vae, generated, shape, seed):
    if shape is not None:
        columns = math.ceil(math.sqrt(len(generated)))
        figure = _image_grid(plt, generated, shape, math.ceil(len(generated) / columns), vae)
    else:
        figure = _heat_maps(plt, vae, [("generated rows", generated)])
    return _pixels(plt, figure) + (f"<p>Codes drawn from N(0, I) (seed {seed}), decoded to the "
                                "mean of p(x | z).</p>")


def _codes(plt, vae, X, labels):
    mu = vae.encode(X).astype(np.float64)
    figure, axis = plt.subplots(figsize=(5, 4.4))
    if labels is None:
        axis.scatter(mu[:, 0], mu[:, 1], s=6, alpha=0.6)
    else:
        classes = np.unique(labels)
        colours = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
        for i, value in enumerate(classes):
            chosen = labels == value
            axis.scatter(mu[chosen, 0], mu[chosen, 1], s=6, alpha=0.7, label=str(value),
                         color=colours(i % colours.N))
        axis.legend(fontsize=7, markerscale=2, loc="center left", bbox_to_anchor=(1.0, 0.5))
    axis.set(xlabel="z1 (mean of q(z | x))", ylabel="z2", aspect="equal")
    return _svg(plt, figure) + ("<p>The means of q(z | x) of the held-out rows; the prior "
                                "N(0, I) puts 90% of its mass within 2.15 of the origin.</p>")


def walk_codes(steps):
    """The latent walk's codes, shape (steps * steps, 2): rows of the grid from the top
    (largest z2) down, z1 growing along each row, at the normal quantiles of ``steps`` evenly
    spaced probabilities in [0.05, 0.95]; and those quantiles."""
    from scipy.stats import norm
    quantiles = norm.ppf(np.linspace(0.05, 0.95, steps))
    codes = np.array([[a, b] for b in quantiles[::-1] for a in quantiles])
    return codes, quantiles


def _walk(plt, vae, steps, shape):
    codes, quantiles = walk_codes(steps)
    decoded = vae.decode(codes)
    labels = [f"{q:.2f}" for q in quantiles]
    if shape is not None:
        figure = _image_grid(plt, decoded, shape, steps, vae, axis_labels=labels)
    else:
        figure = _heat_maps(plt, vae, [("decoded codes, z1 fastest", decoded)])
    return _pixels(plt, figure) + (
        f"<p>The decoder on a {steps} x {steps} grid of codes: z1 and z2 at the standard "
        "normal quantiles of probabilities evenly spaced from 0.05 to 0.95, so each step "
        "covers the same prior mass.</p>")


# -- drawing ---------------------------------------------------------------------------------
def _pixels(plt, figure):
    """``figure`` as inline SVG whose images the browser enlarges as square pixels (the SVG
    holds each image at its own resolution; browsers would otherwise blur it)."""
    return _svg(plt, figure).replace("<image ", '<image style="image-rendering:pixelated" ')


def _value_range(vae, *arrays):
    if vae.reconstruction == "bernoulli":
        return 0.0, 1.0
    low = min(float(np.min(a)) for a in arrays)
    high = max(float(np.max(a)) for a in arrays)
    return low, high if high > low else low + 1.0


def _image_grid(plt, images, shape, rows, vae, row_names=None, axis_labels=None):
    """``images`` (n, height * width) as one picture: ``rows`` rows of cells, a blank border
    of one pixel around each image; row names on the left, or the walk's code values on both
    axes."""
    height, width = shape
    columns = math.ceil(len(images) / rows)
    low, high = _value_range(vae, images)
    cells = np.full((rows * columns, height + 2, width + 2), low, dtype=np.float64)
    cells[:len(images), 1:-1, 1:-1] = np.asarray(images, dtype=np.float64).reshape(-1, *shape)
    grid = (cells.reshape(rows, columns, height + 2, width + 2).transpose(0, 2, 1, 3)
            .reshape(rows * (height + 2), columns * (width + 2)))
    inches_per_pixel = min(0.065, _MAX_WIDTH / grid.shape[1])
    figure, axis = plt.subplots(figsize=(grid.shape[1] * inches_per_pixel + 0.9,
                                         grid.shape[0] * inches_per_pixel + 0.6))
    axis.imshow(grid, cmap="gray_r", vmin=low, vmax=high, interpolation="none")
    for side in axis.spines.values():
        side.set_visible(False)
    centres_x = np.arange(columns) * (width + 2) + (width + 1) / 2
    centres_y = np.arange(rows) * (height + 2) + (height + 1) / 2
    if axis_labels is not None:
        axis.set_xticks(centres_x, axis_labels, fontsize=7, rotation=90)
        axis.set_yticks(centres_y, axis_labels[::-1], fontsize=7)
        axis.set(xlabel="z1", ylabel="z2")
    elif row_names is not None:
        axis.set_xticks([])
        axis.set_yticks(centres_y, row_names, fontsize=8)
    else:
        axis.set_axis_off()
    axis.tick_params(length=0)
    return figure


def _heat_maps(plt, vae, named):
    """Rows as heat maps side by side, one line per row, one colour scale."""
    low, high = _value_range(vae, *(values for _, values in named))
    n_rows, n_features = named[0][1].shape
    width = min(_MAX_WIDTH, len(named) * (1.2 + 0.12 * n_features))
    figure, axes = plt.subplots(1, len(named), figsize=(width, 1.0 + min(0.12 * n_rows, 7.0)),
                                squeeze=False)
    for axis, (name, values) in zip(axes[0], named):
        image = axis.imshow(values, cmap="viridis", vmin=low, vmax=high, aspect="auto",
                            interpolation="none")
        axis.set(title=name, xlabel="feature", ylabel="row")
    figure.colorbar(image, ax=list(axes[0]), shrink=0.8)
    return figure
