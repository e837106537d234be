"""The 25-Gaussian experiment of ALI (thesis 4.4.5, ALI paper 4.5, Fig. 4.8), in one command:

    python -m vgen.experiments.gaussians2d --outdir=runs/gaussians2d [--runs=10] [--steps=N]

1. Data: 100,000 training samples of the 25-component grid mixture (vgen.data.gaussians2d:
   centres {-4, -2, 0, 2, 4}², standard deviation 0.05) and 10,000 held-out samples.
2. ALI and GAN are each trained `--runs` times, all runs of a model at once (`jax.vmap` over
   the run axis), every run with its own random Adam learning rate, β1 and Gaussian weight-init
   standard deviation. Each run draws 10,000 samples from p(x) and each sample goes to the
   mixture component of highest responsibility (`vgen.data.gaussians2d.count_modes`). Per model,
   mean ± std over runs (ddof=0): the modes covered (components given >= 1 sample; with min and
   max, next to the thesis's numbers), the fraction of high-quality samples (within 3 std of
   their component's centre), the populated modes (components holding >= 1% of the high-quality
   samples) and, for ALI, the reconstruction MSE E‖x − G_x(ẑ)‖², ẑ ~ q(z | x), on the held-out
   samples. A smear reaches every mode: the first count alone rewards the worst models.
3. The best GAN (most populated modes, ties: the larger high-quality fraction) is given an
   encoder by learned inverse mapping (min E‖z − G_z(G_x(z))‖² over z ~ p(z), decoder frozen)
   and by post-hoc learned inference (decoder frozen, encoder trained against a new joint
   discriminator D(x, z) with the ALI losses); a VAE with ALI's decoder and a Gaussian encoder
   is trained too. With the best ALI they form the four columns of
   Fig. 4.8 (fig4_8.png): held-out data q(x), its codes z ~ q(z | x), its reconstructions, prior
   samples z ~ p(z), and their decodings G_x(z); points coloured by mixture component.
Writes <outdir>/results.json and <outdir>/fig4_8.png and prints the table.

The pieces are the video models': ALI's game (`vgen.ali_game`) and Algorithm 1's update
(`vgen.adversarial.adversarial_step`) for ALI, the GAN and post-hoc inference, a TrainState with
one Adam per side. Networks (`vgen.nn.mlp`) are those of the ALI authors'
`experiments/ali_mixture.py` / `gan_mixture.py`:
decoder 2 → 4 × (H, batch norm, ReLU) → 2; encoder [x, ε] → 2 × (H, batch norm, ReLU) → z with
ε ~ N(0, I₂), the code's change-of-variables conditional (Eq. 4.3), for ALI and post-hoc
inference (the VAE and the inverse mapping use the same stack to (μ, log σ), Eq. 4.2: the VAE's
KL needs the density, the inverse mapping uses μ). With the Gaussian encoder, ALI's q(z) shrank
to small clusters that left gaps in p(z), and the decoder drew the gaps as lines between the
modes: at 20,000 steps (lr 1e-4 / 3e-4 / 1e-3 / 3e-3, β1 0.5) 0.29 / 0.32 / 0.71 / 0.41 of the
samples were high quality, against 0.34 / 0.67 / 0.79 / 0.82 with [x, ε]; discriminator: 3 maxout
layers (D units, 5 pieces) and a linear logit, on [x, z] for ALI and on x for the GAN; no
dropout (the mixture code builds its dropout graph but trains without it); weights N(0, std),
biases 0, hidden layers of the generator networks without biases; batch size 100; batch-norm
running averages with momentum 0.95, used when sampling.

Hyper-parameters. The code trains H = 400, D = 200 with Adam lr 1e-4, "β1 0.8" and init std 0.02
for 200 epochs (200,000 steps). Blocks, which it ran on, defined its betas as one minus the
usual ones until January 2017, so that is β1 = 0.2 as Adam is written today. The papers' text
says only "random learning rate and β1 values" and "a Gaussian distribution with a random
standard deviation", without ranges. The code's budget is ~17 hours on a 2-core CPU, so the
defaults are CPU-sized: H = 200, D = 100 and 20,000 steps (~22 min for the whole command;
`--gen_hidden=400 --disc_hidden=200 --steps=200000` restores the code's setting). Each run draws
lr log-uniform in LR_RANGE, β1 uniform in B1_RANGE and the init std log-uniform in STD_RANGE,
the same for ALI and the GAN. The learning rates sit above the code's 1e-4 because of the 10×
shorter training. The ranges are where ALI trains at this budget, measured on this setup: with
lr in [3e-4, 3e-3] and β1 in [0.5, 0.9], every ALI run with β1 >= 0.79 stayed a smear (2–12% of
its samples high quality), as did lr 2e-3 with β1 0.5, and lr 1e-4 had 34% high-quality samples
after 20,000 steps. The baselines use the hyper-parameters of the run they extend (the best
GAN's for inverse mapping and post-hoc inference, the best ALI's for the VAE).
"""

import functools
import json
import os
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import app, flags

from vgen import ali_game, losses
from vgen.adversarial import adversarial_step
from vgen.data import gaussians2d as g2d
from vgen.nn.mlp import BatchNormMLP, GaussianMLP, MaxoutMLP, NoiseInputMLP
from vgen.ops.gaussian import sample_gaussian
from vgen.train_state import TrainState

NLAT = 2
GEN_HIDDEN = 400  # the ALI code's widths
DISC_HIDDEN = 200
MAXOUT_PIECES = 5
ENCODER_DEPTH = 2
DECODER_DEPTH = 4
DISC_DEPTH = 3
BATCH_SIZE = 100
ALI_CODE_STEPS = 200 * 100_000 // BATCH_SIZE  # 200 epochs of the 100,000 samples
# CPU-sized defaults (module docstring): half the widths, a tenth of the steps.
DEFAULT_STEPS = 20_000
DEFAULT_GEN_HIDDEN = GEN_HIDDEN // 2
DEFAULT_DISC_HIDDEN = DISC_HIDDEN // 2

LR_RANGE = (4e-4, 1.2e-3)
B1_RANGE = (0.2, 0.7)
STD_RANGE = (0.005, 0.05)
VAE_OBS_STD = 0.05  # fixed standard deviation of the VAE's Gaussian p(x | z)
# The thesis's mode counts (4.4.5): mean ± std (min, max) over 10 runs each.
THESIS = {
    "ali": {"mean": 13.4, "std": 5.8, "min": 8, "max": 25},
    "gan": {"mean": 10.4, "std": 9.2, "min": 1, "max": 22},
}

_UNIT = nn.initializers.normal(1.0)  # kernels are drawn N(0, 1), then scaled by each run's std
# The hyper-parameters live in the optimiser state, so every run of a vmap has its own.
ADAM = optax.inject_hyperparams(optax.adam)(learning_rate=1e-4, b1=0.8)

# A frozen decoder's flax variables {"params", "batch_stats"} ("inverse", "posthoc"), or None.
Frozen = dict[str, Any] | None


class Model(NamedTuple):
    """One model of the experiment, static under jit: its kind ("ali", "gan", "inverse",
    "posthoc", "vae") and the hidden widths of its generator MLPs and discriminator.

    Its state is a TrainState with params {"gen": {"encoder"?, "decoder"?}, "disc"?} (the
    networks its kind trains) and batch_stats {"gen": {...}}; each network group has its own
    Adam (`ADAM`, with the run's learning rate and β1 in its state)."""

    kind: str
    gen_hidden: int = GEN_HIDDEN
    disc_hidden: int = DISC_HIDDEN

    @property
    def nets(self) -> ali_game.Networks:
        if self.kind in ("ali", "posthoc"):  # as the ALI code: z = G_z([x, ε]) (Eq. 4.3)
            encoder = NoiseInputMLP(ENCODER_DEPTH, NLAT, self.gen_hidden, NLAT, _UNIT)
        else:  # the VAE needs q(z | x)'s density; the inverse mapping uses μ alone
            encoder = GaussianMLP(ENCODER_DEPTH, NLAT, self.gen_hidden, _UNIT)  # -> (μ, log σ)
        return ali_game.Networks(
            encoder,
            BatchNormMLP(DECODER_DEPTH, 2, self.gen_hidden, _UNIT),
            MaxoutMLP(self.disc_hidden, DISC_DEPTH, MAXOUT_PIECES, _UNIT),
        )


def _init(net: nn.Module, key: jax.Array, std: jax.Array, *inputs) -> tuple[Any, Any]:
    """(params, batch stats) of `net` with N(0, std²) kernels and zero biases."""
    variables = net.init(key, *inputs)
    scale = lambda path, p: p * std if path[-1].key == "kernel" else p
    params = jax.tree_util.tree_map_with_path(scale, variables["params"])
    return params, variables.get("batch_stats", {})


def _with_hyper(opt_state: optax.OptState, hyper: dict) -> optax.OptState:
    """An `ADAM` state with this run's learning rate and β1."""
    lr_b1 = {"learning_rate": jnp.asarray(hyper["lr"]), "b1": jnp.asarray(hyper["b1"])}
    return opt_state._replace(hyperparams={**opt_state.hyperparams, **lr_b1})


# ----------------------------------------------------------------------------- models
# A model is its `_init_model` (a fresh state for one run) and its branch of `train_step`; the
# per-run hyper-parameters are {"lr", "b1", "std"} scalars (arrays [R] under the run vmap).


def _init_model(model: Model, key: jax.Array, hyper: dict) -> TrainState:
    """A fresh state of `model` for one run."""
    k_enc, k_dec, k_disc = jax.random.split(key, 3)
    x = jnp.zeros((1, 2))
    z = jnp.zeros((1, NLAT))
    std, nets, kind = hyper["std"], model.nets, model.kind
    gen, stats = {}, {}
    if kind in ("ali", "inverse", "posthoc", "vae"):
        gen["encoder"], stats["encoder"] = _init(nets.encoder, k_enc, std, x, False)
    if kind in ("ali", "gan", "vae"):
        gen["decoder"], stats["decoder"] = _init(nets.decoder, k_dec, std, z, False)
    params = {"gen": gen}
    if kind in ("ali", "posthoc"):
        params["disc"], _ = _init(nets.disc, k_disc, std, x, z)
    if kind == "gan":
        params["disc"], _ = _init(nets.disc, k_disc, std, x)
    state = TrainState.create(params, {name: ADAM for name in params}, {"gen": stats})
    opt_state = {name: _with_hyper(s, hyper) for name, s in state.opt_state.items()}
    return state.replace(opt_state=opt_state)


def _apply_train(net: nn.Module, variables: dict, *inputs):
    """A generator network in training mode: (output, its new batch stats)."""
    out, new = net.apply(variables, *inputs, train=True, mutable=["batch_stats"])
    return out, new["batch_stats"]


def _decoder_variables(state: TrainState, frozen: Frozen) -> dict:
    """The variables of the decoder a model's samples come from: its own or the frozen one."""
    return ali_game.variables(state, "decoder") if frozen is None else frozen


def train_step(
    model: Model, state: TrainState, frozen: Frozen, x: jax.Array, key: jax.Array
) -> tuple[TrainState, dict]:
    """One update of `model` on data x [B, 2] for one run; `frozen` is the trained decoder of
    "inverse" and "posthoc"."""
    b = x.shape[0]
    z_key, eps_key = jax.random.split(key)
    z = jax.random.normal(z_key, (b, NLAT))
    nets, s = model.nets, state.batch_stats["gen"]
    kind = model.kind

    if kind == "ali":  # ALI's own game, as in the video models (no dropout here)
        logits_fn = ali_game.joint_logits_fn(nets, s, x, z, eps_key, None, {})

    elif kind == "gan":

        def logits_fn(gen, disc):
            variables = {"params": gen["decoder"], "batch_stats": s["decoder"]}
            x_tilde, dec_stats = _apply_train(nets.decoder, variables, z)
            logits = nets.disc.apply({"params": disc}, jnp.concatenate([x, x_tilde]))
            return (logits[:b], logits[b:]), ({"decoder": dec_stats}, {})

    elif kind == "posthoc":  # the ALI game against the frozen decoder
        x_tilde = nets.decoder.apply(frozen, z, train=False)

        def logits_fn(gen, disc):
            variables = {"params": gen["encoder"], "batch_stats": s["encoder"]}
            out, new = nets.encoder.apply(
                variables, x, train=True, mutable=["batch_stats"], rngs={"noise": eps_key}
            )
            z_hat, enc_stats = ali_game.code(out, eps_key), new["batch_stats"]
            logits = nets.disc.apply(
                {"params": disc}, jnp.concatenate([x, x_tilde]), jnp.concatenate([z_hat, z])
            )
            return (logits[:b], logits[b:]), ({"encoder": enc_stats}, {})

    else:
        return _regression_step(model, state, frozen, x, z, eps_key)
    return adversarial_step(state, logits_fn)


def _regression_step(
    model: Model, state: TrainState, frozen: Frozen, x, z, eps_key
) -> tuple[TrainState, dict]:
    """The non-adversarial models: learned inverse mapping and the VAE."""
    nets, s = model.nets, state.batch_stats["gen"]
    variables = lambda gen, name: {"params": gen[name], "batch_stats": s[name]}
    if model.kind == "inverse":
        x_tilde = nets.decoder.apply(frozen, z, train=False)

        def loss_fn(gen):
            (mu, _), enc_stats = _apply_train(nets.encoder, variables(gen, "encoder"), x_tilde)
            # a fixed-variance posterior: only the mean is learned
            loss = jnp.mean(jnp.sum(jnp.square(z - mu), axis=-1))
            return loss, {"encoder": enc_stats}

    else:  # vae

        def loss_fn(gen):
            (mu, log_sigma), enc_stats = _apply_train(nets.encoder, variables(gen, "encoder"), x)
            z_hat = sample_gaussian(mu, 2.0 * log_sigma, eps_key)
            x_hat, dec_stats = _apply_train(nets.decoder, variables(gen, "decoder"), z_hat)
            nll = -losses.gaussian_log_likelihood(x, x_hat, 2.0 * jnp.log(VAE_OBS_STD))
            kl = losses.gaussian_kl(mu, 2.0 * log_sigma, 0.0, 0.0)
            loss = jnp.mean(jnp.sum(nll, -1) + jnp.sum(kl, -1))
            return loss, {"encoder": enc_stats, "decoder": dec_stats}

    (loss, new_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params["gen"])
    state = state.apply_gradients("gen", grads)
    state = state.replace(step=state.step + 1, batch_stats={"gen": {**s, **new_stats}})
    return state, {"loss": loss}


# ----------------------------------------------------------------------------- training


@functools.partial(jax.jit, static_argnums=(0, 5), donate_argnums=1)
def _train_chunk(
    model: Model, states: TrainState, frozen: Frozen, data: jax.Array, key: jax.Array, steps: int
):
    """`steps` updates of every run (leading axis R of `states` and `frozen`), each on its own
    random batches of `data` [N, 2]; returns the states and the runs' metrics of the last step."""
    runs = jax.tree.leaves(states)[0].shape[0]

    def body(states, key):
        d_key, s_key = jax.random.split(key)
        index = jax.random.randint(d_key, (runs, BATCH_SIZE), 0, data.shape[0])
        step = functools.partial(train_step, model)
        return jax.vmap(step)(states, frozen, data[index], jax.random.split(s_key, runs))

    states, metrics = jax.lax.scan(body, states, jax.random.split(key, steps))
    return states, jax.tree.map(lambda m: m[-1], metrics)


def train(
    model: Model,
    hyper: dict[str, np.ndarray],
    data: jax.Array,
    steps: int,
    key: jax.Array,
    frozen: Frozen = None,
    chunk: int = 1000,
    log: Callable[[str], None] = print,
) -> TrainState:
    """Trains R runs of `model` (hyper: arrays [R] "lr", "b1", "std") for `steps` steps
    in jitted chunks of `chunk` scanned steps; `frozen` is a decoder's variables [R, ...]."""
    init_key, key = jax.random.split(key)
    runs = len(hyper["lr"])
    hyper = {k: jnp.asarray(v, jnp.float32) for k, v in hyper.items()}
    init = lambda k, h: _init_model(model, k, h)
    states = jax.jit(jax.vmap(init))(jax.random.split(init_key, runs), hyper)
    done = 0
    while done < steps:
        n = min(chunk, steps - done)
        start = time.time()
        states, metrics = _train_chunk(
            model, states, frozen, data, jax.random.fold_in(key, done), n
        )
        shown = ", ".join(
            f"{k} {float(jnp.mean(v)):.3f}" for k, v in metrics.items() if "loss" in k
        )  # waits for the chunk
        rate = n / (time.time() - start)  # the first chunk includes compilation
        done += n
        log(
            f"  {model.kind:8s} step {done:6d}/{steps}  {rate:7.1f} steps/s  "
            f"ETA {(steps - done) / rate:6.0f} s  (mean over {runs} runs: {shown})"
        )
    return states


def _per_run(fn: Callable, states: TrainState, frozen: Frozen, key: jax.Array):
    """fn(state, frozen, key) for every run (vmapped over the leading axis R)."""
    runs = jax.tree.leaves(states)[0].shape[0]
    return jax.vmap(fn)(states, frozen, jax.random.split(key, runs))


@functools.partial(jax.jit, static_argnums=(0, 4))
def generate(model: Model, states: TrainState, frozen: Frozen, key: jax.Array, num: int):
    """Prior samples z [R, num, 2] and their decodings G_x(z) [R, num, 2] (inference mode)."""

    def one(state, frozen, key):
        z = jax.random.normal(key, (num, NLAT))
        return z, model.nets.decoder.apply(_decoder_variables(state, frozen), z, train=False)

    return _per_run(one, states, frozen, key)


@functools.partial(jax.jit, static_argnums=0)
def infer(model: Model, states: TrainState, frozen: Frozen, x: jax.Array, key: jax.Array):
    """Codes ẑ ~ q(z | x) [R, N, 2] of data x [N, 2] (the means for the inverse mapping, whose
    variance is not learned) and reconstructions G_x(ẑ) [R, N, 2] (inference mode)."""

    def one(state, frozen, key):
        z = ali_game.encode(model.nets, state, x, None if model.kind == "inverse" else key, {})
        return z, model.nets.decoder.apply(_decoder_variables(state, frozen), z, train=False)

    return _per_run(one, states, frozen, key)


# ----------------------------------------------------------------------------- protocol


def random_hyper(rng: np.random.Generator, runs: int) -> dict[str, np.ndarray]:
    """Per-run Adam learning rate (log-uniform), β1 (uniform), init std (log-uniform): [R]."""
    log_uniform = lambda lo, hi: np.exp(rng.uniform(np.log(lo), np.log(hi), runs))
    return {
        "lr": log_uniform(*LR_RANGE).astype(np.float32),
        "b1": rng.uniform(*B1_RANGE, runs).astype(np.float32),
        "std": log_uniform(*STD_RANGE).astype(np.float32),
    }


def summarize(modes: list[int]) -> dict[str, float]:
    """Mean, std (ddof=0), min and max of the modes covered by each run."""
    m = np.asarray(modes, np.float64)
    return {
        "mean": float(m.mean()),
        "std": float(m.std()),
        "min": int(m.min()),
        "max": int(m.max()),
    }


def _take(states: TrainState, run: int) -> TrainState:
    """Run `run` of vmapped states, keeping a run axis of size 1."""
    return jax.tree.map(lambda a: a[run : run + 1], states)


def reconstruction_mse(x_hat, x) -> np.ndarray:
    """E‖x − x̂‖² over the points: x_hat [..., N, 2] against x [N, 2] -> [...]."""
    return np.mean(np.sum((np.asarray(x_hat) - np.asarray(x)) ** 2, axis=-1), axis=-1)


def _mean_std(values: list[float]) -> dict[str, float]:
    """Mean and std (ddof=0) over runs."""
    v = np.asarray(values, np.float64)
    return {"mean": float(v.mean()), "std": float(v.std())}


def format_table(results: dict) -> str:
    """The per-model table over runs (mean ± std): modes covered next to the thesis's, modes
    holding >= 1% of the high-quality samples, the high-quality fraction and ALI's
    reconstruction MSE (the GAN has no encoder)."""
    share = f">={g2d.MIN_MODE_SHARE:.0%} of HQ"
    header = f"{'model':6s} {'modes covered (ours)':>28s}   {'thesis':>26s}"
    lines = [f"{header}   {'modes ' + share:>17s}   {'high-quality':>13s}   {'recon. MSE':>13s}"]
    for kind in ("ali", "gan"):
        s, t = results["summary"][kind], THESIS[kind]
        ours = f"{s['mean']:.1f} ± {s['std']:.1f} (min {s['min']}, max {s['max']})"
        theirs = f"{t['mean']} ± {t['std']} (min {t['min']}, max {t['max']})"
        p, r = s["populated_modes"], s.get("reconstruction_mse")
        populated = f"{p['mean']:.1f} ± {p['std']:.1f}"
        quality = f"{s['high_quality']:.3f} ± {s['high_quality_std']:.3f}"
        recon = f"{r['mean']:.2f} ± {r['std']:.2f}" if r else "-"
        row = f"{kind.upper():6s} {ours:>28s}   {theirs:>26s}"
        lines.append(f"{row}   {populated:>17s}   {quality:>13s}   {recon:>13s}")
    return "\n".join(lines)


def _colors(num: int) -> np.ndarray:
    """One RGB colour per mixture component, [num, 4]."""
    from matplotlib import colormaps

    return colormaps["hsv"](np.linspace(0.0, 1.0, num, endpoint=False))


def plot_figure(path: str, panels: dict[str, dict[str, np.ndarray]], centers: np.ndarray, std):
    """Fig. 4.8: one column per model, rows data / q(z) / reconstructions / p(z) / samples.

    panels[model] holds "x" (held-out data [N, 2]), "z_hat", "x_hat", "z", "x_tilde"."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = [
        ("x", "data q(x)", 6.0),
        ("z_hat", "codes z ~ q(z|x)", 4.0),
        ("x_hat", "reconstructions", 6.0),
        ("z", "prior z ~ p(z)", 4.0),
        ("x_tilde", "samples G_x(z)", 6.0),
    ]
    colors = _colors(len(centers))
    fig = Figure(figsize=(3 * len(panels), 15), dpi=80)
    FigureCanvasAgg(fig)
    for c, (model, panel) in enumerate(panels.items()):
        data_comp = g2d.responsibilities(panel["x"], centers, std).argmax(1)
        sample_comp = g2d.responsibilities(panel["x_tilde"], centers, std).argmax(1)
        for r, (name, label, lim) in enumerate(rows):
            ax = fig.add_subplot(len(rows), len(panels), r * len(panels) + c + 1)
            comp = sample_comp if name in ("z", "x_tilde") else data_comp
            pts = panel[name]
            ax.scatter(pts[:, 0], pts[:, 1], s=0.5, c=colors[comp], linewidths=0, rasterized=True)
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_aspect("equal")
            ax.tick_params(labelsize=6)
            if r == 0:
                ax.set_title(model, fontsize=9)
            if c == 0:
                ax.set_ylabel(label, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)


def run_experiment(
    outdir: str,
    runs: int = 10,
    steps: int = DEFAULT_STEPS,
    gen_hidden: int = DEFAULT_GEN_HIDDEN,
    disc_hidden: int = DEFAULT_DISC_HIDDEN,
    seed: int = 0,
    num_train: int = g2d.DEFAULT_NUM_SAMPLES,
    num_eval: int = 10_000,
    chunk: int = 1000,
    log: Callable[[str], None] = print,
) -> dict:
    """The whole protocol (module docstring); writes results.json and fig4_8.png to outdir."""
    start = time.time()
    os.makedirs(outdir, exist_ok=True)
    model = lambda kind: Model(kind, gen_hidden, disc_hidden)
    source = g2d.Gaussians2DSource(seed=seed, num_samples=num_train)
    centers, std = source.centers, source.std
    held_out, _ = g2d.sample(jax.random.key(seed + 1), num_eval, centers, std)
    rng = np.random.default_rng(seed)
    key = jax.random.key(seed)
    results: dict[str, Any] = {
        "setup": {
            "runs": runs,
            "steps": steps,
            "gen_hidden": gen_hidden,
            "disc_hidden": disc_hidden,
            "ali_code": {
                "steps": ALI_CODE_STEPS,
                "gen_hidden": GEN_HIDDEN,
                "disc_hidden": DISC_HIDDEN,
            },
            "batch_size": BATCH_SIZE,
            "num_train": num_train,
            "num_eval_samples": num_eval,
            "seed": seed,
            "lr_range": LR_RANGE,
            "b1_range": B1_RANGE,
            "init_std_range": STD_RANGE,
            "mixture_std": std,
        },
        "thesis": THESIS,
        "runs": {},
        "summary": {},
    }

    # --- ALI and GAN, `runs` random hyper-parameter draws each, vmapped
    trained = {}
    for i, kind in enumerate(("ali", "gan")):
        hyper = random_hyper(rng, runs)
        log(f"Training {runs} {kind.upper()} runs for {steps} steps.")
        states = train(
            model(kind), hyper, source.x, steps, jax.random.fold_in(key, i), None, chunk, log
        )
        _, samples = generate(model(kind), states, None, jax.random.fold_in(key, 10 + i), num_eval)
        if kind == "ali":
            _, x_hat = infer(model(kind), states, None, held_out, jax.random.fold_in(key, 15))
            mse = reconstruction_mse(x_hat, held_out)
        per_run = []
        for r in range(runs):
            counted = g2d.count_modes(np.asarray(samples[r]), centers, std)
            if kind == "ali":
                counted["reconstruction_mse"] = float(mse[r])
            per_run.append({**{k: float(v[r]) for k, v in hyper.items()}, **counted})
        results["runs"][kind] = per_run
        summary = summarize([p["modes"] for p in per_run])
        quality = _mean_std([p["high_quality"] for p in per_run])
        summary["high_quality"], summary["high_quality_std"] = quality["mean"], quality["std"]
        summary["populated_modes"] = _mean_std([p["populated_modes"] for p in per_run])
        if kind == "ali":
            summary["reconstruction_mse"] = _mean_std([p["reconstruction_mse"] for p in per_run])
        results["summary"][kind] = summary
        # The best run: the most populated modes (ties: the larger high-quality fraction).
        scores = [(p["populated_modes"], p["high_quality"]) for p in per_run]
        best = scores.index(max(scores))
        results["summary"][kind]["best_run"] = best
        trained[kind] = (_take(states, best), {k: v[best : best + 1] for k, v in hyper.items()})

    # --- inference for the best GAN (inverse mapping, post-hoc), and a VAE
    gan_state, gan_hyper = trained["gan"]
    frozen = ali_game.variables(gan_state, "decoder")
    ali_state, ali_hyper = trained["ali"]
    models = {"ALI": (model("ali"), ali_state, None)}
    baselines = [
        ("GAN + inverse mapping", "inverse", gan_hyper, frozen),
        ("GAN + post-hoc inference", "posthoc", gan_hyper, frozen),
        ("VAE", "vae", ali_hyper, None),
    ]
    for i, (name, kind, hyper, f) in enumerate(baselines):
        log(f"Training {name} for {steps} steps.")
        k = jax.random.fold_in(key, 20 + i)
        models[name] = (
            model(kind),
            train(model(kind), hyper, source.x, steps, k, f, chunk, log),
            f,
        )

    # --- Fig. 4.8 and the per-model numbers of its columns
    panels, results["figure_models"] = {}, {}
    for i, (name, (m, state, f)) in enumerate(models.items()):
        z_hat, x_hat = infer(m, state, f, held_out, jax.random.fold_in(key, 30 + i))
        z, x_tilde = generate(m, state, f, jax.random.fold_in(key, 40 + i), num_eval)
        panel = {
            "x": held_out,
            "z_hat": z_hat[0],
            "x_hat": x_hat[0],
            "z": z[0],
            "x_tilde": x_tilde[0],
        }
        panels[name] = {k: np.asarray(v) for k, v in panel.items()}
        results["figure_models"][name] = {
            **g2d.count_modes(panels[name]["x_tilde"], centers, std),
            "reconstruction_mse": float(
                reconstruction_mse(panels[name]["x_hat"], panels[name]["x"])
            ),
        }
    plot_figure(os.path.join(outdir, "fig4_8.png"), panels, centers, std)

    results["wall_time_s"] = time.time() - start
    results["devices"] = [str(d) for d in jax.devices()]
    path = os.path.join(outdir, "results.json")
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=2)
    os.replace(path + ".tmp", path)
    log(format_table(results))
    for name, numbers in results["figure_models"].items():
        log(
            f"  {name:26s} modes {numbers['modes']:2d}  populated {numbers['populated_modes']:2d}"
            f"  high-quality {numbers['high_quality']:.3f}"
            f"  reconstruction MSE {numbers['reconstruction_mse']:.3f}"
        )
    log(f"Wrote {outdir}/results.json and {outdir}/fig4_8.png in {results['wall_time_s']:.0f} s.")
    return results


# ----------------------------------------------------------------------------- command line

FLAGS = flags.FLAGS
flags.DEFINE_string("outdir", None, "Where results.json and fig4_8.png are written.")
flags.DEFINE_integer("runs", 10, "Runs of ALI and of GAN, each with random hyper-parameters.")
flags.DEFINE_integer("steps", DEFAULT_STEPS, f"Steps per run (the ALI code: {ALI_CODE_STEPS}).")
flags.DEFINE_integer(
    "gen_hidden", DEFAULT_GEN_HIDDEN, f"Encoder/decoder width (the ALI code: {GEN_HIDDEN})."
)
flags.DEFINE_integer(
    "disc_hidden", DEFAULT_DISC_HIDDEN, f"Discriminator width (the ALI code: {DISC_HIDDEN})."
)
flags.DEFINE_integer("seed", 0, "Seed of data, hyper-parameters and initialisation.")
flags.DEFINE_integer("num_train", g2d.DEFAULT_NUM_SAMPLES, "Training samples of q(x).")
flags.DEFINE_integer("num_eval", 10_000, "Samples per run for mode counting and the figure.")


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    names = ("runs", "steps", "gen_hidden", "disc_hidden", "num_train", "num_eval")
    for name in names:
        if FLAGS[name].value < 1:
            raise app.UsageError(f"--{name} must be >= 1, got {FLAGS[name].value}")
    run_experiment(
        FLAGS.outdir,
        runs=FLAGS.runs,
        steps=FLAGS.steps,
        gen_hidden=FLAGS.gen_hidden,
        disc_hidden=FLAGS.disc_hidden,
        seed=FLAGS.seed,
        num_train=FLAGS.num_train,
        num_eval=FLAGS.num_eval,
    )


if __name__ == "__main__":
    flags.mark_flag_as_required("outdir")
    app.run(main)
