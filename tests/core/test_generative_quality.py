"""The FID-style quality score: the Fréchet distance itself, real images vs noise, collapse."""

import numpy as np
import pytest

from studio.core.data import load_dataset
from studio.core.generative import QualityScorer, frechet_distance
from studio.core.generative.images import unit_range


def test_frechet_distance_of_gaussians():
    rng = np.random.default_rng(0)
    sigma = np.cov(rng.normal(size=(200, 5)), rowvar=False)
    mu = rng.normal(size=5)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0, abs=1e-6)
    shift = np.array([3.0, 0, 0, 0, 4.0])
    assert frechet_distance(mu, sigma, mu + shift, sigma) == pytest.approx(25.0, rel=1e-6)
    # Same means, covariance scaled by 4: tr(S + 4S - 2 * 2S) = tr(S).
    assert frechet_distance(mu, sigma, mu, 4 * sigma) == pytest.approx(np.trace(sigma), rel=1e-6)


@pytest.fixture(scope="module")
def scorer_and_data():
    dataset = load_dataset({"source": "digits", "image_size": 8, "max_samples": 400, "seed": 0})
    to_unit = unit_range(dataset)
    scorer = QualityScorer.train(to_unit(dataset.x_train), dataset.y_train, dataset.num_classes,
                                 to_unit(dataset.x_val), epochs=5)
    return scorer, to_unit(dataset.x_test)


def test_real_images_score_lower_than_noise_or_blur(scorer_and_data):
    scorer, real = scorer_and_data
    rng = np.random.default_rng(1)
    real_fid, real_diversity = scorer.score(real)
    noise_fid, _ = scorer.score(rng.uniform(0, 1, real.shape).astype(np.float32))
    blank_fid, _ = scorer.score(np.full_like(real, real.mean()))
    assert real_fid < noise_fid and real_fid < blank_fid
    assert 0.7 < real_diversity < 1.3


def test_a_collapsed_generator_shows_low_diversity(scorer_and_data):
    scorer, real = scorer_and_data
    jitter = np.random.default_rng(2).normal(0, 0.02, real.shape).astype(np.float32)
    collapsed = np.clip(real[:1] + jitter, 0, 1)  # one image, barely varied
    fid, diversity = scorer.score(collapsed)
    assert diversity < 0.5 and fid > scorer.score(real)[0]
