"""A variational autoencoder on digits: new digits from a 2-number code, and the code space.

The 8x8 digits are binarized (a pixel is on when its grey level is at least 8 of 16), so the
Bernoulli likelihood of the decoder is a proper one and the ELBO is a true lower bound on the
log-probability of a test digit, in nats. The script:

1. trains ``gw.VariationalAutoencoder(encoder_units=(128,), latent_dim=2)`` on 80% of the
   digits and a plain ``gw.Autoencoder`` with the same layers and code size, on the same loss
   (the Bernoulli cross-entropy summed over the 64 pixels);
2. prints, on the held-out 20%, the VAE's ELBO (averaged over codes drawn per digit), its two
   terms, and both models' reconstruction errors;
3. writes ``vae_samples.png`` (digits decoded from codes drawn from N(0, I)) and
   ``vae_latent_walk.png`` (the decoder along a grid of codes at the normal quantiles), and
   ``vae_report.html`` (``gw.report.write_vae_report``): the training curve, the held-out ELBO
   and its terms, reconstructions, generated digits, the held-out codes by digit and the walk,
   in one self-contained page.

Run: ``python examples/vae_digits.py [--out DIRECTORY] [--epochs N]`` (about a minute).
"""
import argparse
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import norm  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import gradwise as gw  # noqa: E402


def bernoulli_nll(X, P):
    """Cross-entropy of each row, summed over pixels (nats), probabilities kept off 0 and 1."""
    P = np.clip(P, 1e-7, 1 - 1e-7)
    return -np.sum(X * np.log(P) + (1 - X) * np.log(1 - P), axis=1)


def train(X_train, epochs):
    vae = gw.VariationalAutoencoder(encoder_units=(128,), latent_dim=2, seed=0)
    vae.compile(optimizer=gw.optimizers.Adam(learning_rate=1e-3))
    vae.fit(X_train, epochs=epochs, batch_size=32, verbose=0)
    ae = gw.Autoencoder((128, 2), output_activation="sigmoid", seed=0)
    ae.compile(optimizer=gw.optimizers.Adam(learning_rate=1e-3), loss="binary_crossentropy")
    ae.fit(X_train, epochs=epochs, batch_size=32, verbose=0)
    return vae, ae


def measure(vae, ae, X_test):
    elbo = vae.elbo(X_test, n_samples=20, seed=0)
    mu, log_var = vae.encode(X_test, return_log_variance=True)
    kl = 0.5 * np.sum(mu**2 + np.exp(log_var) - 1 - log_var, axis=1)
    rows = {
        "VAE held-out ELBO (nats per digit)": elbo.mean(),
        "VAE expected reconstruction -log p(x|z)": -(elbo + kl).mean(),
        "VAE KL(q(z|x) || N(0, I))": kl.mean(),
        "VAE reconstruction cross-entropy (code means)": bernoulli_nll(X_test, vae.reconstruct(X_test)).mean(),
        "autoencoder reconstruction cross-entropy": bernoulli_nll(X_test, ae.reconstruct(X_test)).mean(),
        "VAE reconstruction squared error per pixel": np.mean((vae.reconstruct(X_test) - X_test) ** 2),
        "autoencoder reconstruction squared error per pixel": np.mean((ae.reconstruct(X_test) - X_test) ** 2),
    }
    for name, value in rows.items():
        print(f"{name:<52} {value:.3f}")
    return rows


def image_grid(images, rows, title, path):
    """Save ``images`` (n, 64) as a ``rows`` x (n / rows) grid of 8x8 digits, atomically."""
    columns = len(images) // rows
    padded = np.zeros((rows, columns, 10, 10))  # a blank border of one pixel around each digit
    padded[:, :, 1:9, 1:9] = images.reshape(rows, columns, 8, 8)
    grid = padded.transpose(0, 2, 1, 3).reshape(rows * 10, columns * 10)
    figure, axes = plt.subplots(figsize=(columns * 0.6, rows * 0.6 + 0.4))
    axes.imshow(grid, cmap="gray_r", vmin=0, vmax=1)
    axes.set_axis_off()
    axes.set_title(title, fontsize=9)
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".png", dir=directory)
    os.close(handle)
    try:
        figure.savefig(temporary, dpi=100, bbox_inches="tight")
        os.replace(temporary, path)
    finally:
        plt.close(figure)
        if os.path.exists(temporary):
            os.remove(temporary)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory of the PNG and HTML files")
    parser.add_argument("--epochs", type=int, default=100)
    arguments = parser.parse_args()
    if not os.path.isdir(arguments.out):
        parser.error(f"--out: {arguments.out!r} is not a directory")
    digits = load_digits()
    X = (digits.data >= 8).astype(float)
    X_train, X_test, _, y_test = train_test_split(X, digits.target, test_size=0.2,
                                                  random_state=0)
    vae, ae = train(X_train, arguments.epochs)
    measure(vae, ae, X_test)
    image_grid(vae.sample(100, seed=0), 10, "Digits decoded from codes z ~ N(0, I)",
               os.path.join(arguments.out, "vae_samples.png"))
    quantiles = norm.ppf(np.linspace(0.05, 0.95, 12))
    codes = np.array([[a, b] for b in quantiles[::-1] for a in quantiles])
    image_grid(vae.decode(codes), 12, "The decoder along a grid of codes (normal quantiles)",
               os.path.join(arguments.out, "vae_latent_walk.png"))
    gw.report.write_vae_report(
        os.path.join(arguments.out, "vae_report.html"), vae, X_test, image_shape=(8, 8),
        labels=y_test, n_generated=100, seed=0, title="A variational autoencoder on binarized digits",
        data_description=f"scikit-learn's 8x8 digits, a pixel on when its grey level is at "
                         f"least 8 of 16; trained on {len(X_train)} digits for "
                         f"{arguments.epochs} epochs, evaluated on the {len(X_test)} others.")
    print("wrote vae_samples.png, vae_latent_walk.png and vae_report.html in "
          f"{os.path.abspath(arguments.out)}")


if __name__ == "__main__":
    main()
