"""The 2-D mixture of 25 Gaussians on a grid (ALI paper 4.5, thesis 4.4.5) and mode counting.

Defaults are those of the ALI authors' experiment code (`experiments/ali_mixture.py`): centres
(i, j) for i, j in {-4, -2, 0, 2, 4}, isotropic standard deviation 0.05, equal weights. The papers'
text only says the components are "laid out on a grid" with large low-probability regions between.
"""

import jax
import jax.numpy as jnp
import numpy as np

DEFAULT_STD = 0.05
DEFAULT_NUM_SAMPLES = 100_000  # the papers' training set size


def grid_centers(per_side: int = 5, spacing: float = 2.0) -> np.ndarray:
    """Centres of a per_side × per_side grid centred on the origin: [per_side², 2]."""
    if per_side < 1 or spacing <= 0:
        raise ValueError(f"need per_side >= 1 and spacing > 0, got {per_side}, {spacing}")
    axis = (np.arange(per_side) - (per_side - 1) / 2) * spacing
    return np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2).astype(np.float32)


def sample(key: jax.Array, num: int, centers: np.ndarray, std: float = DEFAULT_STD):
    """Draws `num` points from the equal-weight mixture: (x [num, 2], component [num] int32)."""
    centers = jnp.asarray(centers, jnp.float32)
    k_component, k_noise = jax.random.split(key)
    component = jax.random.randint(k_component, (num,), 0, centers.shape[0])
    x = centers[component] + std * jax.random.normal(k_noise, (num, 2))
    return x, component


def responsibilities(samples: np.ndarray, centers: np.ndarray, std: float) -> np.ndarray:
    """Posterior component probabilities of each sample under the equal-weight isotropic
    mixture: [N, 2], [K, 2] -> [N, K] (rows sum to 1; computed in log space)."""
    samples = np.asarray(samples, np.float64)
    centers = np.asarray(centers, np.float64)
    sq = ((samples[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    logits = -sq / (2 * std**2)
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


# A mode is populated when it holds at least this share of the high-quality samples (a quarter
# of the 4% a perfect model gives each of 25 modes).
MIN_MODE_SHARE = 0.01


def count_modes(samples: np.ndarray, centers: np.ndarray, std: float) -> dict[str, float]:
    """Mode coverage of generated samples [N, 2] (ALI paper / thesis 4.4.5, VEEGAN, PacGAN).

    Each sample goes to the component of highest responsibility; "modes" counts the components
    that received at least one sample (a dropped mode received none; the ALI paper's count).
    "high_quality" is the fraction of samples within 3 standard deviations of their assigned
    centre; "populated_modes" counts the components that hold at least MIN_MODE_SHARE of the
    high-quality samples (0 when there are none). A smear across the plane reaches every mode
    but is seldom high quality: read the three together.
    """
    samples = np.asarray(samples)
    if samples.ndim != 2 or samples.shape[1] != 2 or len(samples) == 0:
        raise ValueError(f"samples must be [N, 2] with N >= 1, got shape {samples.shape}")
    if not np.all(np.isfinite(samples)):
        raise ValueError("samples contain NaN or Inf")
    assigned = responsibilities(samples, centers, std).argmax(axis=1)
    distance = np.linalg.norm(samples - np.asarray(centers)[assigned], axis=1)
    good = distance <= 3 * std
    per_mode = np.bincount(assigned[good], minlength=len(centers))
    populated = int(np.sum(per_mode >= MIN_MODE_SHARE * good.sum())) if good.any() else 0
    return {
        "modes": int(len(np.unique(assigned))),
        "high_quality": float(np.mean(good)),
        "populated_modes": populated,
    }


class Gaussians2DSource:
    """A fixed training set of mixture samples (a pure function of the seed) served in batches.

    Batches are dicts {"x": [B, 2], "label": [B]} (the component, usable as a condition).
    """

    def __init__(
        self,
        *,
        seed: int,
        num_samples: int = DEFAULT_NUM_SAMPLES,
        per_side: int = 5,
        spacing: float = 2.0,
        std: float = DEFAULT_STD,
    ):
        if num_samples < 1 or std <= 0:
            raise ValueError(f"need num_samples >= 1 and std > 0, got {num_samples}, {std}")
        self.centers = grid_centers(per_side, spacing)
        self.std = std
        self.x, self.component = sample(jax.random.key(seed), num_samples, self.centers, std)

    def train_batch(self, rng: jax.Array, batch_size: int) -> dict[str, jax.Array]:
        """A uniformly random batch of the fixed training set."""
        index = jax.random.randint(rng, (batch_size,), 0, self.x.shape[0])
        return {"x": self.x[index], "label": self.component[index]}
