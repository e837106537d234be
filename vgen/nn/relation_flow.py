"""The inverse feature flow learned as a relation network (thesis 6.3.4, after Santoro et al.
2017): for features of two successive frames,

    f_t[i, j, (k+ξ)κ + (l+ξ)] = rn(E(x_{t-1})[i, j], E(x_t)[i+k, j+l])

for the κ² offsets (k, l) of F's channel order, rn a small MLP (one hidden ReLU layer as wide
as the features) shared by every location and offset, zero features off the grid. The printed
formula indexes both frames at (i+k, j+l); as for the correlation (`flow_correlation`, Eq. 6.5)
this reads it as the relation of a fixel to where it may have moved.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from vgen.ops.feature_flow import neighbours


class RelationFlow(nn.Module):
    """prev, curr [B, T, h, w, F] (or [B, h, w, F]) -> flow [..., h, w, κ²]."""

    kappa: int = 3

    @nn.compact
    def __call__(self, prev: jax.Array, curr: jax.Array) -> jax.Array:
        lead, (h, w, features) = prev.shape[:-3], prev.shape[-3:]
        fold = lambda a: a.reshape(-1, h, w, features)
        near = neighbours(fold(curr), self.kappa)  # [N, h, w, κ², F]
        here = jnp.broadcast_to(fold(prev)[..., None, :], near.shape)
        hidden = nn.relu(nn.Dense(features, name="rn_hidden")(jnp.concatenate([here, near], -1)))
        flow = nn.Dense(1, name="rn_out")(hidden)[..., 0]
        return flow.reshape(*lead, h, w, -1)
