"""Algorithm 1 (thesis ch. 4): a discriminator and its generator networks updated together,
from one forward pass, each with its own optimiser (ALI, RALI, the 2-D experiment; a GAN is the
case where the data logits do not depend on the generator)."""

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from vgen import losses
from vgen.train_state import TrainState


class AdversarialGrads(NamedTuple):
    """What `adversarial_grads` returns: mean losses, gradients, logits and the aux output."""

    d_loss: jax.Array
    g_loss: jax.Array
    d_grads: Any
    g_grads: Any
    data_logits: jax.Array
    sample_logits: jax.Array
    aux: Any


def _mean(loss_fn: Callable[[jax.Array, jax.Array], jax.Array]):
    return lambda data, sample: jnp.mean(loss_fn(data, sample))


def adversarial_grads(logits_fn: Callable, gen_params: Any, disc_params: Any) -> AdversarialGrads:
    """The two gradients of Algorithm 1 from one forward pass (and two backward passes).

    `logits_fn(gen_params, disc_params) -> ((data_logits, sample_logits), aux)` runs the
    generator networks and D on the encoder pairs (label 1) and the decoder pairs (label 0).
    `d_grads` is the gradient of the mean discriminator loss w.r.t. `disc_params` only (the
    generator's outputs held fixed); `g_grads` that of the mean generator loss of Eq. 4.4 w.r.t.
    `gen_params` only. A GAN is the case where the data logits do not depend on `gen_params`.
    """
    (data, sample), pullback, aux = jax.vjp(logits_fn, gen_params, disc_params, has_aux=True)
    grad = lambda fn: jax.value_and_grad(_mean(fn), argnums=(0, 1))(data, sample)
    d_loss, d_cotangent = grad(losses.gan_discriminator_loss)
    g_loss, g_cotangent = grad(losses.ali_generator_loss)
    return AdversarialGrads(
        d_loss=d_loss,
        g_loss=g_loss,
        d_grads=pullback(d_cotangent)[1],
        g_grads=pullback(g_cotangent)[0],
        data_logits=data,
        sample_logits=sample,
        aux=aux,
    )


def adversarial_step(state: TrainState, logits_fn: Callable) -> tuple[TrainState, dict]:
    """Algorithm 1's step for a state {"gen", "disc"} (ALI, RALI, the 2-D experiment): both
    updates from `adversarial_grads(logits_fn, ...)`, whose aux is (the generator's new batch
    stats, {name: scalar} metrics of its own); other batch_stats entries are kept."""
    out = adversarial_grads(logits_fn, state.params["gen"], state.params["disc"])
    new_stats, aux_metrics = out.aux
    state = state.apply_gradients("gen", out.g_grads).apply_gradients("disc", out.d_grads)
    state = state.replace(step=state.step + 1, batch_stats={**state.batch_stats, "gen": new_stats})
    metrics = {
        "d_loss": out.d_loss,
        "g_loss": out.g_loss,
        "d_acc_data": jnp.mean(losses.discriminator_accuracy(out.data_logits, True)),
        "d_acc_samples": jnp.mean(losses.discriminator_accuracy(out.sample_logits, False)),
        "d_logit_data": jnp.mean(out.data_logits),  # D(x, ẑ): the encoder pushes it down
        "d_logit_samples": jnp.mean(out.sample_logits),  # D(x̃, z): the decoder pushes it up
        **aux_metrics,
    }
    return state, metrics


# ----------------------------------------------------------------------------- three stages
# VAE-GAN's Algorithm 1 (Larsen et al. 2016) and the MVAE's Method-II: encoder -> decoder ->
# discriminator, three losses, each network trained only by its own loss.


def staged_losses(
    encode: Callable, decode: Callable, losses_fn: Callable, enc_params, dec_params, disc_params
) -> tuple[dict[str, jax.Array], tuple[Any, Any, Any]]:
    """One forward pass through three stages, the definition `staged_grads` differentiates:

      encode(enc_params) -> ((z, side), aux)     z: what the decoder reads; side: encoder
                                                 outputs the losses read directly (a KL)
      decode(dec_params, z) -> (x, aux)
      losses_fn(disc_params, x, side) -> ({"enc", "dec", "disc"}: scalar losses, aux)
    Returns (losses, (encode's aux, decode's aux, losses_fn's aux))."""
    (z, side), enc_aux = encode(enc_params)
    x, dec_aux = decode(dec_params, z)
    values, loss_aux = losses_fn(disc_params, x, side)
    return values, (enc_aux, dec_aux, loss_aux)


def staged_grads(
    encode: Callable, decode: Callable, losses_fn: Callable, enc_params, dec_params, disc_params
) -> tuple[dict[str, Any], dict[str, jax.Array], tuple[Any, Any, Any]]:
    """grads[n] = ∇_{n's params} staged_losses(...)[0][n] for n = "enc", "dec", "disc" (each
    network trained only by its own loss, through the stages after it), from one forward pass:
    each stage's pullback runs with only the cotangents of the loss being differentiated (the
    losses' three times, the decoder's twice, the encoder's once). Where encoder and decoder are
    one parameter tree, pass it twice and keep each network's part of grads["enc"] / ["dec"].
    Returns (grads, losses, auxes as `staged_losses`)."""
    (z, side), enc_pull, enc_aux = jax.vjp(encode, enc_params, has_aux=True)
    x, dec_pull, dec_aux = jax.vjp(decode, dec_params, z, has_aux=True)
    values, loss_pull, loss_aux = jax.vjp(losses_fn, disc_params, x, side, has_aux=True)
    one_hot = lambda name: {k: jnp.asarray(k == name, v.dtype) for k, v in values.items()}
    disc_grads, _, _ = loss_pull(one_hot("disc"))
    _, x_for_enc, side_for_enc = loss_pull(one_hot("enc"))
    _, x_for_dec, _ = loss_pull(one_hot("dec"))
    dec_grads, _ = dec_pull(x_for_dec)
    _, z_for_enc = dec_pull(x_for_enc)
    (enc_grads,) = enc_pull((z_for_enc, side_for_enc))
    grads = {"enc": enc_grads, "dec": dec_grads, "disc": disc_grads}
    return grads, values, (enc_aux, dec_aux, loss_aux)
