"""The variational autoencoder's HTML report: its pictures hold the rows they claim (read back
from the page's inline PNGs), its numbers are the ELBO recomputed here from the formulas, the
same seed gives the same bytes, and bad input fails before any work."""
import base64
import io
import math
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.datasets import load_digits

import gradwise as gw
from gradwise.report import generative

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")


def _fitted(seed=0, latent_dim=2):
    digits = load_digits()
    X = (digits.data >= 8).astype(np.float64)  # binary pixels: a true Bernoulli likelihood
    vae = gw.VariationalAutoencoder(encoder_units=(16,), latent_dim=latent_dim, seed=seed,
                                    dtype="float64")
    vae.compile(optimizer="adam").fit(X[:1200], epochs=15, batch_size=32, verbose=0)
    return vae, X[1200:1400], digits.target[1200:1400]


@pytest.fixture(scope="module")
def fitted():
    return _fitted()


@pytest.fixture(scope="module")
def page(fitted):
    vae, X_test, labels = fitted
    return gw.report.vae_report(vae, X_test, image_shape=(8, 8), labels=labels,
                                n_elbo_samples=5, seed=3)


def _section(page, title):
    """The HTML between the heading ``title`` and the next heading."""
    start = page.index(f"<h2>{title}</h2>")
    end = page.find("<h2>", start + 1)
    return page[start:end if end > 0 else len(page)]


def _pictures(section):
    """The PNG images inlined in a section's SVG, as arrays of grey levels in [0, 1]
    (gray_r: 0 white, 1 black)."""
    found = re.findall(r'<image [^>]*xlink:href="data:image/png;base64,([^"]+)"', section)
    return [1.0 - np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("L"),
                             dtype=np.float64) / 255.0 for data in found]


def _tiles(grid, rows, columns):
    """Undo the page's layout: a grid of 10x10 cells (a blank pixel around each 8x8 image)
    back to (rows * columns, 64) rows."""
    cells = grid.reshape(rows, 10, columns, 10).transpose(0, 2, 1, 3)[:, :, 1:9, 1:9]
    return cells.reshape(rows * columns, 64)


def _shown_rows(page, title, rows, columns):
    """The rows a section's one picture shows (it must be inline SVG holding one image)."""
    section = _section(page, title)
    assert section.count("<svg") == 1
    (picture,) = _pictures(section)
    assert picture.shape == (10 * rows, 10 * columns)
    return _tiles(picture, rows, columns)


def test_generated_grid_holds_the_decoded_draws_of_the_seed(fitted, page):
    vae, _, _ = fitted
    codes = np.random.default_rng(3).standard_normal((64, 2))  # seed=3: N(0, I) draws
    expected = vae.decode(codes)
    np.testing.assert_allclose(_shown_rows(page, "64 generated rows", 8, 8), expected,
                               atol=2.5 / 255)
    assert np.ptp(expected) > 0.3  # the grid is not blank


def test_latent_walk_decodes_codes_at_normal_quantiles(fitted, page):
    vae, _, _ = fitted
    q = norm.ppf(np.linspace(0.05, 0.95, 12))  # Kingma and Welling's figure: equal prior mass
    codes = np.array([[q[j], q[11 - i]] for i in range(12) for j in range(12)])  # z2 top-down
    np.testing.assert_allclose(_shown_rows(page, "A walk through the code space", 12, 12),
                               vae.decode(codes), atol=2.5 / 255)
    section = _section(page, "A walk through the code space")
    for value in (q[0], q[5], q[-1]):  # the axes are labelled by code (text drawn as paths)
        assert f"<!-- {value:.2f} -->" in section.replace("\u2212", "-")


def test_reconstructions_show_held_out_rows_above_their_decoded_means(fitted, page):
    vae, X_test, _ = fitted
    tiles = _shown_rows(page, "Reconstructions of 10 held-out rows", 2, 10)
    np.testing.assert_allclose(tiles[:10], X_test[:10], atol=1 / 255)
    mu = vae.encode(X_test[:10])
    np.testing.assert_allclose(tiles[10:], vae.decode(mu), atol=2.5 / 255)


def _printed(section):
    cells = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", section)
    return {name: (float(mean), std) for name, mean, std in cells}


def test_printed_elbo_is_the_bound_computed_from_its_formulas(fitted, page):
    vae, X_test, _ = fitted
    printed = _printed(_section(page, "Held-out evidence lower bound"))
    mu, log_var = vae.encode(X_test, return_log_variance=True)
    kl = 0.5 * np.sum(mu**2 + np.exp(log_var) - 1 - log_var, axis=1)  # KL(N(mu, s^2) || N(0, 1))
    rng = np.random.default_rng(3)  # seed=3, 5 codes per row drawn one after another
    cross_entropy = np.zeros(len(X_test))
    for _ in range(5):
        z = mu + np.exp(0.5 * log_var) * rng.standard_normal(mu.shape)
        p = vae.decode(z)
        cross_entropy += -np.sum(X_test * np.log(p) + (1 - X_test) * np.log1p(-p), axis=1) / 5
    elbo = -cross_entropy - kl
    assert printed["ELBO, a lower bound on log p(x)"][0] == pytest.approx(elbo.mean(), abs=1e-4)
    assert float(printed["ELBO, a lower bound on log p(x)"][1]) == pytest.approx(elbo.std(),
                                                                               abs=1e-4)
    assert printed["reconstruction term -E_q[log p(x | z)]"][0] == pytest.approx(
        cross_entropy.mean(), abs=1e-4)
    assert printed["KL(q(z | x) || N(0, I))"][0] == pytest.approx(kl.mean(), abs=1e-4)
    baseline = next(v for k, v in printed.items() if k.startswith("log p(x) of a model"))[0]
    assert baseline == pytest.approx(-64 * math.log(2), abs=1e-4)
    assert baseline < printed["ELBO, a lower bound on log p(x)"][0] < 0  # it learned something


def test_training_curve_and_codes_are_drawn(page):
    assert "<svg" in _section(page, "Training curves")
    codes = _section(page, "Held-out codes")
    assert "<svg" in codes and "<!-- 9 -->" in codes  # the legend names the digits


_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
import gradwise as gw
from test_report_vae import _fitted
vae, X_test, labels = _fitted()
gw.report.write_vae_report({path!r}, vae, X_test, image_shape=(8, 8), labels=labels,
                           n_elbo_samples=5, seed=3)
"""


def test_same_seed_same_bytes_in_fresh_processes(page, tmp_path):
    """Trained from scratch in two new processes (layer names count up within a process, so a
    fresh one is what a user reruns), the pages are the same bytes, and the one built here."""
    pages = []
    for name in ("first.html", "second.html"):
        script = _SCRIPT.format(tests=str(pathlib.Path(__file__).parent),
                                path=str(tmp_path / name))
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        pages.append((tmp_path / name).read_bytes())
    assert pages[0] == pages[1]
    assert b"<svg" in pages[0] and b"64 generated rows" in pages[0]
    # the same as this process's page but for the layers' numbered names (and the summary's
    # column widths they set)
    def unnumbered(text):
        return re.sub(r"_\d+ +(\(\w+\)) +", r" \1 ", text)
    assert unnumbered(pages[0].decode()) == unnumbered(page)


def test_the_seed_chooses_the_generated_rows_only(fitted, page):
    vae, X_test, labels = fitted
    again = gw.report.vae_report(vae, X_test, image_shape=(8, 8), labels=labels,
                                 n_elbo_samples=5, seed=3)
    assert again == page
    other = gw.report.vae_report(vae, X_test, image_shape=(8, 8), labels=labels,
                                 n_elbo_samples=5, seed=4)
    assert _section(other, "64 generated rows") != _section(page, "64 generated rows")
    assert _section(other, "A walk through the code space") == \
        _section(page, "A walk through the code space")  # the walk draws nothing


def test_rows_without_image_shape_are_heat_maps_and_walk_needs_two_numbers():
    vae, X_test, _ = _fitted(latent_dim=3)
    page = gw.report.vae_report(vae, X_test[:50], n_generated=16, n_elbo_samples=2)
    for title in ("16 generated rows", "Reconstructions of 10 held-out rows"):
        assert "<svg" in _section(page, title)
    assert "Drawn for a code of 2 numbers; this one has 3." in page
    assert "Held-out codes" not in page


def test_write_is_atomic_and_a_loaded_vae_has_its_report(fitted, tmp_path):
    vae, X_test, _ = fitted
    vae.save(tmp_path / "vae.npz")
    loaded = gw.VariationalAutoencoder.load(tmp_path / "vae.npz")
    path = tmp_path / "vae.html"
    assert gw.report.write_vae_report(path, loaded, X_test[:40], image_shape=(8, 8)) == path
    text = path.read_text(encoding="utf-8")
    assert text == gw.report.vae_report(loaded, X_test[:40], image_shape=(8, 8))
    assert "No training history" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vae.html", "vae.npz"]


@pytest.mark.parametrize("change, error, argument", [
    (dict(X_test=np.zeros((5, 63))), ValueError, "X_test"),
    (dict(X_test=np.full((5, 64), 2.0)), ValueError, "X_test"),
    (dict(image_shape=(8, 7)), ValueError, "image_shape"),
    (dict(image_shape=(64,)), ValueError, "image_shape"),
    (dict(image_shape="8x8"), ValueError, "image_shape"),
    (dict(labels=np.zeros(3)), ValueError, "labels"),
    (dict(n_generated=0), ValueError, "n_generated"),
    (dict(vae="unfitted"), ValueError, "vae"),
    (dict(vae=gw.Autoencoder((4, 2), input_dim=64)), TypeError, "vae"),
])
def test_bad_input_fails_before_any_work(fitted, monkeypatch, tmp_path, change, error,
                                         argument):
    vae, X_test, _ = fitted
    arguments = dict(vae=vae, X_test=X_test, image_shape=(8, 8))
    arguments.update(change)
    if isinstance(arguments["vae"], str):
        arguments["vae"] = gw.VariationalAutoencoder(encoder_units=(16,), input_dim=64, seed=0)

    def no_work(*_):
        raise AssertionError("work started before the input was checked")
    monkeypatch.setattr(generative, "_pyplot", no_work)
    monkeypatch.setattr(type(vae), "elbo", no_work)
    with pytest.raises(error, match=argument):
        gw.report.vae_report(**arguments)
    with pytest.raises(error, match=argument):
        gw.report.write_vae_report(tmp_path / "vae.html", **arguments)
    assert not list(tmp_path.iterdir())
