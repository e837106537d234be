"""Schedules and GAN losses against hand-computed values."""

import jax.numpy as jnp
import numpy as np

from vgen import losses, schedules


def test_curriculum_length_grows_then_caps():
    got = [
        int(schedules.curriculum_length(s, start=2, end=5, every=10)) for s in (0, 9, 10, 35, 99)
    ]
    assert got == [2, 2, 3, 5, 5]


def test_curriculum_disabled_gives_full_length():
    assert int(schedules.curriculum_length(0, start=1, end=7, every=0)) == 7


def test_gan_losses_hand_computed():
    real, fake = jnp.array([2.0, -1.0]), jnp.array([-3.0, 0.5])
    sig = lambda x: 1 / (1 + np.exp(-x))
    want_d = -np.log(sig(np.array([2.0, -1.0]))) - np.log(1 - sig(np.array([-3.0, 0.5])))
    np.testing.assert_allclose(losses.gan_discriminator_loss(real, fake), want_d, rtol=1e-6)
    want_g = -np.log(sig(np.array([-3.0, 0.5])))
    np.testing.assert_allclose(losses.gan_generator_loss(fake), want_g, rtol=1e-6)


def test_discriminator_accuracy_and_masked_mean():
    logits = jnp.array([[1.0, -1.0, 2.0]])
    assert losses.discriminator_accuracy(logits, True).tolist() == [[1.0, 0.0, 1.0]]
    assert losses.discriminator_accuracy(logits, False).tolist() == [[0.0, 1.0, 0.0]]
    mask = jnp.array([True, False, True])
    assert float(losses.masked_mean(jnp.array([[1.0, 100.0, 3.0]]), mask[None])) == 2.0


def test_squared_error_per_frame():
    x = jnp.zeros((2, 3, 4, 4, 1))
    y = x.at[0, 1].set(0.5)
    np.testing.assert_allclose(losses.squared_error(x, y), [[0, 0.25, 0], [0, 0, 0]])
