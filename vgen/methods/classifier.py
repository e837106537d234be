"""Video classifiers (thesis 5.2.2, Table 5.2): which class of motion a clip shows.

Trained with softmax cross-entropy on batch["label"] of whole clips (context and predicted
frames alike: all `data.context_frames + data.predict_frames` frames), one Adam. The networks,
`model.arch` of `vgen.nn.classifier_nets.ARCHS`, follow the thesis's shared pattern (stride-2
3×3 convolutions down to 1×1, then a fully connected layer); two_stream is VGG-like on optical
flow (`vgen.data.optical_flow`: Farnebäck, cached per split in `model.flow_cache`, default
`optical_flow.default_cache_dir()`). Clips without batch["flow"] (a generator's predictions)
get theirs computed on the fly. The two streams (`model.spatial_stream`) are trained together
through their averaged class probabilities; S&Z trained each alone (the thesis gives no detail).

A classifier does not predict frames: it has no `sample`, and the loop writes no sample grids
for it. Its evaluator is "classification" (error per split and a confusion matrix), reached
through the `classify` hook.
"""

from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import optax

from vgen import config_lib, optim
from vgen.config_lib import require, require_at_least, require_choice
from vgen.data import optical_flow
from vgen.errors import ConfigError
from vgen.nn.classifier_nets import ARCHS, VideoClassifier
from vgen.train_state import TrainState

Config = ml_collections.ConfigDict

# The networks of every classifier `:tiny` config.
TINY_MODEL = dict(channels=4)

CONFIG_CHECKS = (
    require_choice("model.arch", ARCHS),
    require_at_least(1, "model.channels"),
    require_at_least(2, "model.num_classes"),
    require(
        lambda c: c.model.kappa >= 1 and c.model.kappa % 2 == 1, "model.kappa must be odd and >= 1"
    ),
    require(
        lambda c: c.data.resolution >= 4 and c.data.resolution & (c.data.resolution - 1) == 0,
        "data.resolution must be a power of two >= 4 (stride-2 layers down to 1×1)",
    ),
    require(
        lambda c: c.model.arch != "relation" or c.data.context_frames + c.data.predict_frames >= 2,
        "model.arch 'relation' needs clips of >= 2 frames (it reads pairs of frames)",
    ),
)


def network(config: Config) -> VideoClassifier:
    m = config.model
    return VideoClassifier(
        arch=m.arch,
        num_classes=m.num_classes,
        channels=m.channels,
        kappa=m.kappa,
        spatial_stream=m.spatial_stream,
    )


def _inputs(config: Config, batch: dict) -> tuple[jax.Array, ...]:
    """The network's inputs: the video, and for two_stream its flow (cached or computed)."""
    video = jnp.asarray(batch["video"])
    if config.model.arch != "two_stream":
        return (video,)
    flow = batch.get("flow")
    return video, optical_flow.flow_of(video) if flow is None else jnp.asarray(flow)


def wrap_source(config: Config, source: Any) -> Any:
    """two_stream: the source with cached optical flows in its batches; others: `source`."""
    if config.model.arch != "two_stream":
        return source
    d = config.data
    identity = {k: d[k] for k in d.keys() if k != "data_dir"}  # the cache key sorts them
    try:
        return optical_flow.OpticalFlowSource(source, identity, config.model.flow_cache)
    except ValueError as e:
        raise ConfigError(f"model.arch 'two_stream': {e}") from e


def init(config: Config, rng: jax.Array, batch: dict) -> TrainState:
    """The classifier's parameters for clips shaped like batch["video"] [B, T, H, W, C]."""
    params = network(config).init(rng, *_inputs(config, batch))["params"]
    return TrainState.create(params={"net": params}, tx=optim.make_optimizers(config, ("net",)))


def classify(config: Config, state: TrainState, batch: dict) -> jax.Array:
    """Class logits [B, num_classes] of batch["video"] [B, T, H, W, C] (and "flow")."""
    return network(config).apply({"params": state.params["net"]}, *_inputs(config, batch))


def _loss_and_error(logits: jax.Array, labels: jax.Array) -> tuple[jax.Array, jax.Array]:
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
    return loss, jnp.mean(jnp.argmax(logits, -1) != labels)


def train_step(
    config: Config, state: TrainState, batch: dict, rng: jax.Array
) -> tuple[TrainState, dict[str, jax.Array]]:
    """One Adam step on the cross-entropy of batch["label"] [B]; the batch's loss and error."""
    del rng  # deterministic networks

    def loss_fn(params):
        logits = network(config).apply({"params": params}, *_inputs(config, batch))
        return _loss_and_error(logits, batch["label"])

    (loss, error), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params["net"])
    state = state.apply_gradients("net", grads)
    return state.replace(step=state.step + 1), {"loss": loss, "error": error}


def eval_step(config: Config, state: TrainState, batch: dict, rng: jax.Array) -> dict:
    """Cross-entropy and error rate on validation clips."""
    del rng
    loss, error = _loss_and_error(classify(config, state, batch), batch["label"])
    return {"loss_val": loss, "error_val": error}


def default_config() -> Config:
    """The common fields plus the classifier's settings (arch: the thesis's best model)."""
    config = config_lib.common_config()
    config.method = "classifier"
    config.model = Config(
        dict(
            arch="conv3d_convlstm",  # Table 5.2's best; or conv3d, convlstm, relation, two_stream
            num_classes=10,  # Dynamics' classes
            channels=16,  # first layer's width, doubled per layer up to 8×
            kappa=3,  # relation: the neighbourhood the learned inverse flow searches
            spatial_stream=False,  # two_stream: add the spatial stream (Table 5.2: without)
            flow_cache="",  # two_stream: the flows' cache dir ("": the user's cache)
        )
    )
    # 3e-4: at 1e-3 conv3d_convlstm stayed at chance for 3,000 steps (90 % error, Table 5.2's
    # first CPU run); one rate for every architecture, as the thesis searched none.
    config.optim.net = config_lib.optimizer("adam", lr=3e-4)
    config.train.batch_size = 32
    config.eval.evaluators = ("classification",)
    return config
