"""The example scripts run end to end (as a user would run them)."""
import math
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.slow
def test_practice_example():
    done = subprocess.run([sys.executable, str(EXAMPLES / "practice.py")], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for section in ("== Learning-rate range test ==", "suggested learning rate:",
                    "== Bias/variance diagnosis ==", "dominant problem:", "next actions:",
                    "== Gradient health ==", "||dW||", "update/W"):
        assert section in out, f"missing {section!r} in:\n{out}"
    assert out.index("diagnosis ==") < out.index("Gradient health ==")
    accuracy = float(out.rsplit("Test accuracy (measured once, at the end):", 1)[1])
    assert accuracy > 0.9


@pytest.mark.slow
def test_autoencoders_example():
    done = subprocess.run([sys.executable, str(EXAMPLES / "autoencoders.py")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    value = {}
    for line in done.stdout.splitlines():
        parts = line.strip().rsplit(None, 1)
        if len(parts) == 2 and parts[1].replace(".", "", 1).isdigit():
            value[parts[0]] = float(parts[1])
    value.update({name: float(line.split()[1]) for line in done.stdout.splitlines()
                  for name in ("autoencoder", "IsolationForest") if line.strip().startswith(name + " ")})
    assert value["linear autoencoder"] == pytest.approx(value["PCA"], rel=0.05)  # PCA: its optimum
    assert value["ReLU autoencoder"] < value["PCA"]
    assert (value["trained on noisy (denoising)"] < value["trained on clean"]
            < value["noisy input itself"])
    assert value["autoencoder"] > 0.9


@pytest.mark.slow
def test_csv_workflow_example():
    done = subprocess.run([sys.executable, str(EXAMPLES / "csv_workflow.py")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for command in ("train", "predict", "anomalies", "info"):
        assert f"$ gradwise {command} " in out
    assert "columns: 3 (1 numeric, 1 categorical, 1 date)" in out
    assert "missing number(s) filled with the training split's medians" in done.stderr  # predict
    import ast
    probabilities = ast.literal_eval(out.rsplit("with probabilities", 1)[1].strip())
    # a recent basic-plan customer paying much is likelier to leave than an old pro one
    assert probabilities[0] > 0.5 > probabilities[1]


@pytest.mark.slow
def test_vae_digits_example(tmp_path):
    done = subprocess.run([sys.executable, str(EXAMPLES / "vae_digits.py"), "--out", str(tmp_path),
                           "--epochs", "20"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    value = {line.rsplit(None, 1)[0]: float(line.rsplit(None, 1)[1])
             for line in done.stdout.splitlines() if line.startswith(("VAE", "autoencoder"))}
    elbo = value["VAE held-out ELBO (nats per digit)"]
    # above the bound of a model that knows nothing (each pixel on with probability 1/2)
    assert -64 * math.log(2) < elbo < 0
    assert value["VAE KL(q(z|x) || N(0, I))"] > 0
    assert value["VAE reconstruction cross-entropy (code means)"] < 64 * math.log(2)
    for name in ("vae_samples.png", "vae_latent_walk.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (tmp_path / "vae_report.html").read_text(encoding="utf-8")
    for title in ("100 generated rows", "A walk through the code space", "Held-out codes"):
        assert f"<h2>{title}</h2>\n<svg" in page
    shown = float(page.split("<td>ELBO, a lower bound on log p(x)</td><td>", 1)[1].split("<")[0])
    assert shown == pytest.approx(elbo, abs=1e-3)  # the ELBO the script printed (same draws)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vae_latent_walk.png", "vae_report.html",
                                                          "vae_samples.png"]
