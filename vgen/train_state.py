"""The training state: an immutable pytree holding everything a step reads and writes."""

from typing import Any

import flax.struct
import jax
import optax


@flax.struct.dataclass
class TrainState:
    """Step counter, parameters, optimiser state and batch statistics, one entry per network.

    `params`, `opt_state` and `batch_stats` are dicts keyed by network name ("gen", "disc", ...).
    The optimisers are static (not part of the pytree), so the state checkpoints as plain arrays.
    """

    step: jax.Array
    params: dict[str, Any]
    opt_state: dict[str, Any]
    batch_stats: dict[str, Any]
    tx: dict[str, optax.GradientTransformation] = flax.struct.field(pytree_node=False)

    @classmethod
    def create(
        cls,
        params: dict[str, Any],
        tx: dict[str, optax.GradientTransformation],
        batch_stats: dict[str, Any] | None = None,
    ) -> "TrainState":
        opt_state = {name: tx[name].init(p) for name, p in params.items()}
        return cls(
            step=jax.numpy.zeros((), jax.numpy.int32),
            params=params,
            opt_state=opt_state,
            batch_stats=batch_stats or {},
            tx=tx,
        )

    def apply_gradients(self, name: str, grads: Any) -> "TrainState":
        """Updates network `name` with its optimiser; does not advance `step`."""
        updates, opt_state = self.tx[name].update(grads, self.opt_state[name], self.params[name])
        params = optax.apply_updates(self.params[name], updates)
        return self.replace(
            params={**self.params, name: params}, opt_state={**self.opt_state, name: opt_state}
        )

    def checkpoint_items(self) -> dict[str, Any]:
        """The arrays a checkpoint holds (everything but the static optimisers)."""
        return {
            "step": self.step,
            "params": self.params,
            "opt_state": self.opt_state,
            "batch_stats": self.batch_stats,
        }
