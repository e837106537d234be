"""The one optimiser factory: `config.optim.<network>` -> an optax transformation per network."""

import ml_collections
import optax


def make_optimizer(spec: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """optax's Adam(lr, b1, b2) or RMSProp(lr, decay) from one `config.optim.<network>`."""
    if spec.kind == "adam":
        return optax.adam(spec.lr, b1=spec.b1, b2=spec.b2)
    return optax.rmsprop(spec.lr, decay=spec.decay)


def make_optimizers(
    config: ml_collections.ConfigDict, names: tuple[str, ...] | None = None
) -> dict[str, optax.GradientTransformation]:
    """{network: optimiser} for `names` (default: every entry of config.optim)."""
    names = tuple(config.optim) if names is None else names
    return {name: make_optimizer(config.optim[name]) for name in names}
