"""Autoencoders three ways: compression, denoising and anomaly detection.

1. Compression: digits (64 pixels) through an 8-number code. A linear autoencoder reaches the
   reconstruction error of PCA with 8 components (its theoretical optimum); a non-linear one,
   with ReLU layers around the code, goes below it.
2. Denoising: the same network trained on clean digits, or on digits with Gaussian noise added
   (and asked for the clean ones back), then shown noisy test digits.
3. Anomaly detection: trained on benign breast tumours only, malignant ones should reconstruct
   badly; ranked by reconstruction error, against scikit-learn's IsolationForest.

Run: ``python examples/autoencoders.py`` (a few seconds).
"""
import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

import gradwise as gw


def compression(X_train, X_test, code_size=8):
    pca = PCA(code_size).fit(X_train)
    errors = {"PCA": np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2)}
    for name, options in (("linear autoencoder", dict(encoder_units=(code_size,),
                                                      activation="linear")),
                          ("ReLU autoencoder", dict(encoder_units=(128, code_size)))):
        ae = gw.Autoencoder(**options, seed=0).compile(optimizer=gw.optimizers.Adam(2e-3))
        ae.fit(X_train, epochs=150, batch_size=64, verbose=0)
        errors[name] = ae.reconstruction_error(X_test).mean()
    print(f"1. Compression to {code_size} numbers, mean squared error on the test digits "
          "(standardized pixels):")
    for name, error in errors.items():
        print(f"   {name:<20} {error:.4f}")
    return errors


def denoising(X_train, X_test, stddev=0.3):
    noisy = X_test + np.random.default_rng(0).normal(0.0, stddev, X_test.shape)
    errors = {"noisy input itself": np.mean((noisy - X_test) ** 2)}
    for name, noise in (("trained on clean", 0.0), ("trained on noisy (denoising)", stddev)):
        ae = gw.Autoencoder((32, 16), noise_stddev=noise, output_activation="sigmoid", seed=0)
        ae.compile(optimizer=gw.optimizers.Adam(3e-3), loss="binary_crossentropy")
        ae.fit(X_train, epochs=40, batch_size=64, verbose=0)
        errors[name] = np.mean((ae.reconstruct(noisy) - X_test) ** 2)
    print(f"\n2. Denoising: test digits (pixels in [0, 1]) plus noise of std {stddev}; squared "
          "error against the clean digits:")
    for name, error in errors.items():
        print(f"   {name:<30} {error:.4f}")
    return errors


def anomalies(seeds=(0, 1, 2)):
    X, y = load_breast_cancer(return_X_y=True)
    benign, malignant = X[y == 1], X[y == 0]
    scores = {"autoencoder": [], "IsolationForest": []}
    for seed in seeds:
        train, benign_test = train_test_split(benign, test_size=0.3, random_state=seed)
        X_test = np.vstack([benign_test, malignant])
        is_malignant = np.r_[np.zeros(len(benign_test)), np.ones(len(malignant))]
        detector = gw.AutoencoderAnomalyDetector((16, 4), random_state=seed).fit(train)
        forest = IsolationForest(random_state=seed).fit(train)
        for name, model in (("autoencoder", detector), ("IsolationForest", forest)):
            scores[name].append(roc_auc_score(is_malignant, -model.score_samples(X_test)))
    print("\n3. Anomaly detection, trained on benign tumours only: ROC-AUC of malignant vs benign "
          f"test tumours, mean over {len(seeds)} splits:")
    for name, values in scores.items():
        print(f"   {name:<20} {np.mean(values):.3f}  ({', '.join(f'{v:.3f}' for v in values)})")
    return {name: float(np.mean(values)) for name, values in scores.items()}


def main():
    X = load_digits().data
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0) + 1e-9
    compression((X_train - mean) / std, (X_test - mean) / std)
    denoising(X_train / 16.0, X_test / 16.0)
    anomalies()


if __name__ == "__main__":
    main()
