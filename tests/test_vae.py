"""Variational autoencoder: the reparameterized gradient checked by central differences with the
noise held fixed, the KL term in closed form, the ELBO, sampling, files, ONNX and bad input."""
import numpy as np
import pytest

import gradwise as gw
from _finite_differences import numeric_gradient, relative_difference


def _binary(n=40, features=8, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n, features)) > 0.5).astype(float)


def _vae(reconstruction="bernoulli", dtype="float64", beta=1.0, input_dim=8):
    vae = gw.VariationalAutoencoder(encoder_units=(6, 5), latent_dim=3, beta=beta, seed=0,
                                    reconstruction=reconstruction, activation="tanh",
                                    input_dim=input_dim, dtype=dtype)
    return vae.compile(optimizer="adam")


def _fixed_noise_loss(vae, X):
    """The training loss with the same noise at every call, and its back-propagated gradient."""
    model = vae.model
    sampling = model.layers[vae._sampling_index]
    sampling.rng = np.random.default_rng(11)
    loss, _ = model.loss_and_gradients(X, X)
    return loss, model.grads_buffer.copy()


def _by_hand(vae, X, noise):
    """-ELBO (beta-weighted) from the weights, written out with NumPy alone."""
    h = X
    for layer in vae.encoder_layers:
        h = h @ layer.params["W"] + layer.params["b"]
        h = np.tanh(h) if layer is not vae.encoder_layers[-1] else h
    mu, log_var = h[:, :3], h[:, 3:]
    z = mu + np.exp(0.5 * log_var) * noise
    for layer in vae.decoder_layers:
        z = z @ layer.params["W"] + layer.params["b"]
        z = np.tanh(z) if layer is not vae.decoder_layers[-1] else z
    if vae.reconstruction == "bernoulli":
        p = 1 / (1 + np.exp(-z))
        nll = -np.sum(X * np.log(p) + (1 - X) * np.log(1 - p), axis=1)
    else:
        nll = np.sum(0.5 * (X - z) ** 2 + 0.5 * np.log(2 * np.pi), axis=1)
    kl = 0.5 * np.sum(mu**2 + np.exp(log_var) - 1 - log_var, axis=1)
    return np.mean(nll + vae.beta * kl)


@pytest.mark.parametrize("reconstruction, beta", [("bernoulli", 1.0), ("gaussian", 1.0),
                                                  ("bernoulli", 4.0)])
def test_every_gradient_matches_central_differences_with_the_noise_held_fixed(reconstruction, beta):
    vae = _vae(reconstruction, beta=beta)
    X = _binary(10) if reconstruction == "bernoulli" else np.random.default_rng(1).normal(size=(10, 8))
    loss, exact = _fixed_noise_loss(vae, X)
    noise = np.random.default_rng(11).standard_normal((10, 3))
    assert loss == pytest.approx(_by_hand(vae, X, noise), rel=1e-12)

    def objective(theta):
        vae.model.params_buffer[...] = theta
        return _fixed_noise_loss(vae, X)[0]

    theta = vae.model.params_buffer.copy()
    approx = numeric_gradient(objective, theta.copy())
    vae.model.params_buffer[...] = theta
    assert relative_difference(approx, exact) < 1e-7
    # per part: encoder, head (mu and log-variance), decoder all get their share
    assert all(np.abs(layer.grads["W"]).sum() > 0 for layer in vae.model.layers if "W" in layer.params)


def test_gradcheck_checks_the_sampling_path_with_fixed_noise():
    vae = _vae()
    X = _binary(12)
    assert gw.gradcheck(vae.model, X, X, epsilon=1e-6) < 1e-7
    # the log-variance half of the head matters in the check: a wrong dv term is caught
    sampling = vae.model.layers[vae._sampling_index]
    original = type(sampling).backward
    try:
        type(sampling).backward = lambda self, dz: original(self, dz) * np.r_[
            np.ones(3), np.full(3, 1.1)]
        assert gw.gradcheck(vae.model, X, X, epsilon=1e-6) > 1e-3
    finally:
        type(sampling).backward = original


def test_sampling_layer_gradient_including_the_kl_term():
    rng = np.random.default_rng(3)
    layer = gw.layers.Sampling(beta=2.0).build(6, np.random.default_rng(0), dtype=np.float64)
    layer.deterministic = True  # one fixed noise draw
    x, readout = rng.normal(size=(5, 6)), rng.normal(size=(5, 3))

    def objective(v):
        return float(np.sum(layer.forward(v, training=True) * readout)) + layer.regularization_loss()

    objective(x)
    exact = layer.backward(readout)
    assert relative_difference(numeric_gradient(objective, x.copy()), exact) < 1e-7


def test_kl_closed_form_and_inference_uses_the_mean():
    layer = gw.layers.Sampling(beta=1.0).build(4, np.random.default_rng(0), dtype=np.float64)
    # mu = (1, 0), log_var = (0, log 4): KL = 0.5 * (1 + 0) + 0.5 * (4 - 1 - log 4)
    x = np.array([[1.0, 0.0, 0.0, np.log(4.0)]])
    np.testing.assert_array_equal(layer.forward(x), [[1.0, 0.0]])
    assert layer.regularization_loss() == pytest.approx(0.5 + 0.5 * (3 - np.log(4.0)), rel=1e-14)
    layer.forward(np.zeros((3, 4)))
    assert layer.regularization_loss() == 0.0
    draws = layer.forward(np.tile([2.0, -1.0, np.log(0.25), 0.0], (20000, 1)), training=True)
    np.testing.assert_allclose(draws.mean(axis=0), [2.0, -1.0], atol=0.02)
    np.testing.assert_allclose(draws.std(axis=0), [0.5, 1.0], rtol=0.02)
    with pytest.raises(ValueError, match="even input width"):
        gw.layers.Sampling().build(5)
    with pytest.raises(ValueError, match="beta=-1"):
        gw.layers.Sampling(beta=-1)


def test_training_raises_the_held_out_elbo_and_shapes(digits_binary):
    X, X_dev = digits_binary
    vae = gw.VariationalAutoencoder(encoder_units=(64,), latent_dim=2, seed=0).compile(
        optimizer=gw.optimizers.Adam(learning_rate=1e-3))
    vae.build(64)
    before = vae.elbo(X_dev, n_samples=5).mean()
    history = vae.fit(X, epochs=8, batch_size=32, verbose=0, validation_data=X_dev)
    after = vae.elbo(X_dev, n_samples=5).mean()
    assert after > before + 10 and history.history["loss"][-1] < history.history["loss"][0]
    assert after < 0  # a bound on a log-probability of binary data
    assert vae.encode(X_dev).shape == (len(X_dev), 2)
    assert vae.reconstruct(X_dev).shape == X_dev.shape
    samples = vae.sample(7)
    assert samples.shape == (7, 64) and samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_array_equal(vae.sample(3, seed=5), vae.sample(3, seed=5))
    # an Autoencoder too: the reconstruction error of each row (from the code means) as a score
    assert isinstance(vae, gw.Autoencoder)
    np.testing.assert_allclose(vae.reconstruction_error(X_dev),
                               np.mean((vae.reconstruct(X_dev) - X_dev) ** 2, axis=1), rtol=1e-5)


def test_same_seed_same_bits():
    X = _binary(60)
    weights = []
    for _ in range(2):
        vae = gw.VariationalAutoencoder(encoder_units=(6,), latent_dim=2, seed=4).compile()
        vae.fit(X, epochs=2, batch_size=16, verbose=0)
        weights.append(vae.model.get_weights() + [vae.sample(4)])
    assert all(np.array_equal(a, b) for a, b in zip(*weights))


def test_save_load_and_onnx_give_the_same_reconstructions(tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    X = _binary(30)
    vae = _vae(dtype="float32")
    vae.fit(X, epochs=2, batch_size=8, verbose=0)
    vae.save(tmp_path / "vae.npz", metadata={"note": "digits"})
    again = gw.VariationalAutoencoder.load(tmp_path / "vae.npz")
    np.testing.assert_array_equal(again.encode(X), vae.encode(X))
    np.testing.assert_array_equal(again.reconstruct(X), vae.reconstruct(X))
    np.testing.assert_array_equal(again.sample(5, seed=1), vae.sample(5, seed=1))
    assert again.latent_dim == 3 and again.model.metadata["note"] == "digits"
    again.fit(X, epochs=1, batch_size=8, verbose=0)  # training resumes with the ELBO loss
    with pytest.raises(ValueError, match="not a variational autoencoder"):
        ae = gw.Autoencoder((4, 2), input_dim=8, seed=0).compile()
        ae.save(tmp_path / "ae.npz")
        gw.VariationalAutoencoder.load(tmp_path / "ae.npz")
    gw.io.export_onnx(vae.model, tmp_path / "vae.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "vae.onnx"),
                                           providers=["CPUExecutionProvider"])
    (outputs,) = session.run(["Y"], {"X": X.astype(np.float32)})
    np.testing.assert_allclose(outputs, vae.reconstruct(X), rtol=1e-5, atol=1e-6)


def test_bad_input_is_refused_before_training():
    with pytest.raises(ValueError, match=r"latent_dim: a code of 9 numbers is larger than the 8"):
        gw.VariationalAutoencoder(latent_dim=9, input_dim=8)
    vae = gw.VariationalAutoencoder(latent_dim=9, seed=0)
    with pytest.raises(ValueError, match="latent_dim: .*expected latent_dim <= 8"):
        vae.fit(_binary(), epochs=1, verbose=0)
    assert vae.model.history is None and not vae.model.built
    with pytest.raises(ValueError, match=r"X: reconstruction='bernoulli' expects values in \[0, 1\]"):
        gw.VariationalAutoencoder(seed=0).fit(np.full((4, 8), 2.0), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"^Expected one of 'bernoulli', 'gaussian' .*, received "
                                         r"reconstruction='poisson'$"):
        gw.VariationalAutoencoder(reconstruction="poisson")
    with pytest.raises(TypeError, match=r"received reconstruction=None$"):
        gw.VariationalAutoencoder(reconstruction=None)
    with pytest.raises(ValueError, match="latent_dim"):
        gw.VariationalAutoencoder(latent_dim=0)
    with pytest.raises(RuntimeError, match="not built"):
        gw.VariationalAutoencoder().sample(3)


@pytest.fixture(scope="module")
def digits_binary():
    from sklearn.datasets import load_digits
    X = (load_digits().data >= 8).astype(float)
    return X[:1400], X[1400:]
