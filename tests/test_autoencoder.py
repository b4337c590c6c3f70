"""Autoencoders: PCA as the linear optimum, gradients, denoising, anomaly detection."""
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.utils.estimator_checks import parametrize_with_checks

import gradwise as gw
from gradwise import Autoencoder, AutoencoderAnomalyDetector


@pytest.fixture(scope="module")
def digits_standardized():
    X = load_digits().data
    return (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-9)


@pytest.fixture(scope="module")
def digits_unit():
    return load_digits().data / 16.0


def test_linear_autoencoder_finds_the_principal_subspace(digits_standardized):
    # Baldi & Hornik: a linear autoencoder with squared error is optimal on the span of the
    # first k principal components, so its error must approach PCA's (the closed-form optimum).
    X, k = digits_standardized, 4
    ae = Autoencoder((k,), activation="linear", input_dim=64, seed=0)
    ae.compile(optimizer=gw.optimizers.Adam(3e-3))
    ae.fit(X, epochs=80, batch_size=64, verbose=0)
    pca = PCA(k).fit(X)
    pca_error = np.mean((pca.inverse_transform(pca.transform(X)) - X) ** 2)
    assert ae.reconstruction_error(X).mean() == pytest.approx(pca_error, rel=0.02)
    # the decoder's rows span the principal subspace: all cosines of the principal angles ~ 1
    decoder_basis, _ = np.linalg.qr(ae.decoder_layers[-1].params["W"].T.astype(np.float64))
    cosines = np.linalg.svd(decoder_basis.T @ pca.components_.T, compute_uv=False)
    assert cosines.min() > 0.95, cosines


def test_structure_mirrors_the_encoder():
    ae = Autoencoder((32, 8), dropout=0.1, noise_stddev=0.1, input_dropout=0.2, input_dim=64)
    kinds = [type(layer).__name__ for layer in ae.model.layers]
    assert kinds == ["GaussianNoise", "Dropout", "Dense", "Dropout", "Dense", "Dense", "Dropout",
                     "Dense"]
    assert [layer.units for layer in ae.encoder_layers if hasattr(layer, "units")] == [32, 8]
    assert [layer.units for layer in ae.decoder_layers if hasattr(layer, "units")] == [32, 64]
    assert ae.code_size == 8 and type(ae.encoder_layers[0].kernel_initializer).__name__ == "HeNormal"


@pytest.mark.parametrize("options", [
    dict(),
    dict(activation="tanh", code_activation="tanh", dropout=0.3, noise_stddev=0.5,
         input_dropout=0.3, kernel_regularizer=gw.regularizers.L2(1e-2)),
])
def test_gradients_match_finite_differences(options, rng):
    ae = Autoencoder((5, 3), input_dim=6, seed=1, dtype="float64", **options).compile()
    X = rng.normal(size=(12, 6))
    assert gw.gradcheck(ae.model, X, X) < 1e-7


def test_sigmoid_output_with_cross_entropy_gradients(rng):
    ae = Autoencoder((4, 2), output_activation="sigmoid", input_dim=5, seed=0, dtype="float64")
    ae.compile(loss="binary_crossentropy")
    X = rng.uniform(size=(10, 5))
    assert gw.gradcheck(ae.model, X, X) < 1e-7
    assert np.all((ae.reconstruct(X) > 0) & (ae.reconstruct(X) < 1))  # probabilities, not logits


def test_encode_decode_reconstruct_are_consistent_and_deterministic(digits_unit):
    X = digits_unit[:50]
    ae = Autoencoder((16, 4), noise_stddev=0.3, input_dropout=0.2, input_dim=64, seed=0)
    ae.compile().fit(X, epochs=2, verbose=0)
    codes = ae.encode(X)
    assert codes.shape == (50, 4) and ae.decode(codes).shape == (50, 64)
    np.testing.assert_array_equal(ae.reconstruct(X), ae.decode(codes))
    np.testing.assert_array_equal(ae.reconstruct(X), ae.reconstruct(X))  # no noise at inference
    expected = np.mean((ae.reconstruct(X).astype(np.float64) - X.astype(np.float32)) ** 2, axis=1)
    np.testing.assert_allclose(ae.reconstruction_error(X), expected, rtol=1e-6)


def test_same_seed_same_weights(digits_unit):
    def trained():
        ae = Autoencoder((16, 4), noise_stddev=0.2, dropout=0.1, seed=3).compile()
        ae.fit(digits_unit[:200], epochs=3, batch_size=32, verbose=0)
        return ae.model.get_weights()
    for a, b in zip(trained(), trained()):
        np.testing.assert_array_equal(a, b)


def test_denoising_autoencoder_cleans_noisy_inputs(digits_unit):
    train, test = train_test_split(digits_unit, test_size=0.3, random_state=0)
    noisy = test + np.random.default_rng(0).normal(0.0, 0.3, test.shape)
    errors = {}
    for stddev in (0.0, 0.3):
        ae = Autoencoder((32, 16), noise_stddev=stddev, output_activation="sigmoid", seed=0)
        ae.compile(optimizer=gw.optimizers.Adam(3e-3), loss="binary_crossentropy")
        ae.fit(train, epochs=40, batch_size=64, verbose=0)
        errors[stddev] = np.mean((ae.reconstruct(noisy) - test) ** 2)
    noise_error = np.mean((noisy - test) ** 2)
    # trained with the corruption it meets, the network removes much more of it
    assert errors[0.3] < 0.8 * errors[0.0] < 0.8 * noise_error, (errors, noise_error)


def test_validation_data_as_rows_or_pair(digits_unit):
    train, dev = digits_unit[:300], digits_unit[300:400]
    ae = Autoencoder((8,), seed=0).compile()
    assert len(ae.fit(train, epochs=2, validation_data=dev, verbose=0).history["val_loss"]) == 2
    noisy = dev + 0.1
    history = ae.fit(train, epochs=1, validation_data=(noisy, dev), verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(
        ae.model.evaluate(noisy, dev)["loss"], rel=1e-5)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(encoder_units=()), ValueError, "encoder_units"),
    (dict(encoder_units=(8, 0)), ValueError, "encoder_units"),
    (dict(encoder_units=(8, 2.5)), TypeError, "encoder_units"),
    (dict(encoder_units=None), TypeError, "encoder_units"),
    (dict(encoder_units=(4,), activation="swishy"), ValueError, "^activation: 'swishy'"),
    (dict(encoder_units=(4,), code_activation="swishy"), ValueError, "^code_activation: 'swishy'"),
    (dict(encoder_units=(4,), output_activation="swishy"), ValueError,
     "^output_activation: 'swishy'"),
    (dict(encoder_units=(4,), input_dropout=1.0), ValueError, "input_dropout"),
    (dict(encoder_units=(4,), noise_stddev=-1.0), ValueError,
     r"^Expected a non-negative number, received noise_stddev=-1\.0$"),
    (dict(encoder_units=(4,), noise_stddev="0.1"), TypeError,
     r"^Expected a non-negative number, received noise_stddev='0\.1'$"),
])
def test_bad_arguments_are_named(kwargs, error, words):
    with pytest.raises(error, match=words):
        Autoencoder(**kwargs)


def _identity_warnings(caught):
    return [w for w in caught if issubclass(w.category, UserWarning)
            and str(w.message).startswith("encoder_units=")]


@pytest.mark.parametrize("units, input_dim, options, warns", [
    ((32, 8), 3, {}, True),   # a code wider than the input
    ((8,), 8, {}, True),      # as wide as the input
    ((4, 8), 3, {}, True),
    ((2, 8), 3, {}, False),   # a narrower hidden layer is a bottleneck
    ((32, 2), 3, {}, False),
    ((32, 8), 3, dict(noise_stddev=0.1), False),   # overcomplete and denoising: legal, quiet
    ((32, 8), 3, dict(input_dropout=0.2), False),
    ((32, 8), 3, dict(dropout=0.2), True),         # hidden dropout leaves the input intact
])
def test_no_bottleneck_and_no_input_corruption_warns(units, input_dim, options, warns):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ae = Autoencoder(units, input_dim=input_dim, seed=0, **options)
    assert ae.model.built  # a warning, never a refusal
    found = _identity_warnings(caught)
    assert len(found) == int(warns), [str(w.message) for w in caught]
    if warns:
        message = str(found[0].message)
        assert message.startswith(f"encoder_units={units} on {input_dim} input features: the "
                                  f"code ({units[-1]} units) is not narrower than the input")
        assert "noise_stddev > 0 or input_dropout > 0" in message
        assert found[0].filename == __file__  # points at the user's line


def test_the_identity_warning_comes_when_fit_learns_the_width_and_once():
    X = np.random.default_rng(0).normal(size=(40, 3))
    ae = Autoencoder((4, 8), seed=0).compile()  # the width is not known yet: no warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ae.fit(X, epochs=1, verbose=0)
        ae.fit(X, epochs=1, verbose=0)
    found = _identity_warnings(caught)
    assert len(found) == 1 and found[0].filename == __file__
    assert str(found[0].message).startswith("encoder_units=(4, 8) on 3 input features")


def test_variational_autoencoder_does_not_warn_with_a_code_as_wide_as_the_input():
    with warnings.catch_warnings(record=True) as caught:  # its sampling noise and KL term
        warnings.simplefilter("always")
        gw.VariationalAutoencoder((16,), latent_dim=4, input_dim=4, seed=0)
    assert _identity_warnings(caught) == []


@pytest.mark.parametrize("units, noise_stddev, warns", [
    ((16, 4), 0.0, True), ((16, 2), 0.0, False), ((16, 4), 0.1, False)])
def test_anomaly_detector_warns_in_its_own_terms_without_a_bottleneck(units, noise_stddev, warns):
    X = np.random.default_rng(0).normal(size=(60, 3))
    detector = AutoencoderAnomalyDetector(units, noise_stddev=noise_stddev, max_iter=2,
                                          random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        detector.fit(X)
    found = _identity_warnings(caught)
    assert len(found) == int(warns), [str(w.message) for w in caught]
    if warns:
        message = str(found[0].message)
        assert message.startswith(f"encoder_units={units} on 3 input features")
        assert "noise_stddev > 0" in message and "input_dropout" not in message  # not its own
        assert found[0].filename == __file__


def test_bad_data_is_refused_before_training(digits_unit):
    ae = Autoencoder((8, 2), input_dim=64, seed=0).compile()
    before = ae.model.get_weights()
    bad = digits_unit[:20].copy()
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ae.fit(bad, verbose=0)
    with pytest.raises(ValueError, match="64 features"):
        ae.fit(digits_unit[:20, :10], verbose=0)
    with pytest.raises(ValueError, match="codes"):
        ae.decode(np.zeros((3, 5)))
    for a, b in zip(before, ae.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(RuntimeError, match="not built"):
        Autoencoder((4,)).encode(digits_unit[:3])


# -- the scikit-learn anomaly detector ------------------------------------------------------
FAST = dict(encoder_units=(4, 2), max_iter=20, random_state=0)


@parametrize_with_checks([AutoencoderAnomalyDetector(**FAST),
                          AutoencoderAnomalyDetector(**FAST, dtype="float64")])
def test_sklearn_conformance(estimator, check):
    check(estimator)


def test_detects_malignant_tumours_trained_on_benign_ones():
    # Fit on benign tumours only; malignant ones should score as anomalies about as well as
    # scikit-learn's IsolationForest ranks them (AUC ~0.95 for both on this split).
    X, y = load_breast_cancer(return_X_y=True)
    aucs, forest = [], []
    for seed in range(3):
        train, benign_test = train_test_split(X[y == 1], test_size=0.3, random_state=seed)
        X_test = np.vstack([benign_test, X[y == 0]])
        is_anomaly = np.r_[np.zeros(len(benign_test)), np.ones((y == 0).sum())]
        detector = AutoencoderAnomalyDetector((16, 4), random_state=seed).fit(train)
        aucs.append(roc_auc_score(is_anomaly, -detector.score_samples(X_test)))
        iso = IsolationForest(random_state=seed).fit(train)
        forest.append(roc_auc_score(is_anomaly, -iso.score_samples(X_test)))
    assert np.mean(aucs) > 0.9 and np.mean(aucs) > np.mean(forest) - 0.05, (aucs, forest)


def test_contamination_sets_the_training_outlier_share():
    X = np.random.default_rng(0).normal(size=(400, 5))
    for contamination in (0.05, 0.2):
        detector = AutoencoderAnomalyDetector((4, 2), contamination=contamination,
                                              random_state=0).fit(X)
        assert np.mean(detector.predict(X) == -1) == pytest.approx(contamination, abs=0.01)
        np.testing.assert_allclose(detector.decision_function(X),
                                   detector.score_samples(X) - detector.offset_)


def test_standardization_makes_scores_independent_of_units():
    X = np.random.default_rng(1).normal(size=(300, 4)) @ np.array(
        [[1.0, 0.5, 0.0, 0.2], [0.0, 1.0, 0.3, 0.0], [0.2, 0.0, 1.0, 0.5], [0.0, 0.0, 0.0, 1.0]])
    rescaled = X * np.array([1.0, 1000.0, 0.001, 5.0]) + np.array([0.0, 50.0, -3.0, 1.0])
    common = dict(encoder_units=(4, 2), random_state=0, dtype="float64")
    a = AutoencoderAnomalyDetector(**common).fit(X).score_samples(X)
    b = AutoencoderAnomalyDetector(**common).fit(rescaled).score_samples(rescaled)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-8)


def test_docstring_example_outlier():
    rng = np.random.default_rng(0)
    normal = rng.normal(size=(500, 2)) @ [[1.0, 1.0, 1.0, 1.0], [1.0, -1.0, 0.0, 2.0]]
    detector = AutoencoderAnomalyDetector((8, 2), random_state=0).fit(normal)
    assert detector.predict([[0.0, 0.0, 0.0, 0.0], [5.0, -5.0, 5.0, -5.0]]).tolist() == [1, -1]


def test_save_and_load_keep_encoder_and_decoder(digits_unit, tmp_path):
    ae = Autoencoder((16, 4), noise_stddev=0.2, dropout=0.1, seed=0).compile()
    ae.fit(digits_unit[:300], epochs=2, verbose=0)
    ae.save(tmp_path / "ae.npz")
    loaded = Autoencoder.load(tmp_path / "ae.npz")
    X = digits_unit[300:350]
    np.testing.assert_array_equal(loaded.encode(X), ae.encode(X))
    np.testing.assert_array_equal(loaded.reconstruction_error(X), ae.reconstruction_error(X))
    assert loaded.code_size == 4 and len(loaded.decoder_layers) == len(ae.decoder_layers)
    loaded.fit(digits_unit[:300], epochs=1, verbose=0)  # trains on, optimizer state included
    gw.save_model(ae.model, tmp_path / "plain.npz", metadata={})
    with pytest.raises(ValueError, match="not an autoencoder"):
        Autoencoder.load(tmp_path / "plain.npz")
    ae.save(tmp_path / "noted.npz", metadata={"threshold": 0.25, "autoencoder": "ignored"})
    noted = Autoencoder.load(tmp_path / "noted.npz")  # the autoencoder's own entry wins
    assert noted.model.metadata["threshold"] == 0.25 and noted.code_size == 4
    with pytest.raises(TypeError, match="metadata: expected a dict"):
        ae.save(tmp_path / "bad.npz", metadata=[1])
