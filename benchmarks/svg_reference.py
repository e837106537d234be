"""The official PyTorch SVG-LP training step (edenton/svg), timed on the CPU: the reference that
``benchmarks/train_step.py --reference=DIR`` sets vgen's SVG-LP step beside.

Run: ``python benchmarks/svg_reference.py --svg_dir=DIR --batch=4`` with DIR a checkout of
https://github.com/edenton/svg (nothing is downloaded) and torch installed (the ``reference``
extra; a CPU build). Prints one JSON line: median seconds per step, peak RSS, torch's version and
thread count.

The models are the checkout's own (``models/vgg_64.py`` encoder and decoder, ``models/lstm.py``
predictor, posterior and prior) at the KTH shape of ``configs/svg_lp_kth.py``: g_dim 128,
z_dim 24, rnn 256, 2/1/1 LSTM layers, 64×64×1 frames, 10 + 10 of them. This driver is written
here after the checkout's ``train_svg_lp.py``: weights drawn as its ``utils.init_weights``
(N(0, 0.02), zero biases; batch-norm scales N(1, 0.02)), and each step runs what its ``train()``
runs: for every frame t = 1..19 the encoder on x_{t-1} and on x_t, posterior, prior, predictor
and decoder (skips from the last context frame); MSE plus β·KL; backward; one Adam update per
network.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time

G_DIM, Z_DIM, RNN, CONTEXT, FUTURE, WIDTH = 128, 24, 256, 10, 10, 64
BETA, LR = 1e-6, 8e-4


def build(svg_dir: str, batch: int):
    """The checkout's five networks, initialised as its training script does."""
    import torch

    if not os.path.isfile(os.path.join(svg_dir, "models", "vgg_64.py")):
        raise SystemExit(f"error: {svg_dir} is not a checkout of edenton/svg (no models/vgg_64.py)")
    # Its LSTMs put their initial state on the GPU; on the CPU build that must be a no-op.
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    sys.path.insert(0, svg_dir)
    from models import lstm, vgg_64

    nets = {
        "predictor": lstm.lstm(G_DIM + Z_DIM, G_DIM, RNN, 2, batch),
        "posterior": lstm.gaussian_lstm(G_DIM, Z_DIM, RNN, 1, batch),
        "prior": lstm.gaussian_lstm(G_DIM, Z_DIM, RNN, 1, batch),
        "encoder": vgg_64.encoder(G_DIM, 1),
        "decoder": vgg_64.decoder(G_DIM, 1),
    }
    for net in nets.values():
        for module in net.modules():
            kind = type(module).__name__
            if "Conv" in kind or "Linear" in kind:
                torch.nn.init.normal_(module.weight, 0.0, 0.02)
                torch.nn.init.zeros_(module.bias)
            elif "BatchNorm" in kind:
                torch.nn.init.normal_(module.weight, 1.0, 0.02)
                torch.nn.init.zeros_(module.bias)
        net.train()
    optims = [torch.optim.Adam(n.parameters(), lr=LR, betas=(0.9, 0.999)) for n in nets.values()]
    return nets, optims


def gaussian_kl(mu1, logvar1, mu2, logvar2, batch: int):
    """KL(N(mu1, e^logvar1) || N(mu2, e^logvar2)), summed over units, averaged over the batch."""
    import torch

    kl = 0.5 * (logvar2 - logvar1) + (logvar1.exp() + (mu1 - mu2) ** 2) / (2 * logvar2.exp()) - 0.5
    return torch.sum(kl) / batch


def train_step(nets, optims, x, batch: int) -> float:
    """One step on x, a list of CONTEXT + FUTURE frames [B, 1, 64, 64]; returns the loss."""
    import torch

    for net in nets.values():
        net.zero_grad()
    for name in ("predictor", "posterior", "prior"):
        nets[name].hidden = nets[name].init_hidden()
    mse, kld = 0.0, 0.0
    for i in range(1, CONTEXT + FUTURE):
        h, h_skip = nets["encoder"](x[i - 1])
        if i < CONTEXT:
            skip = h_skip
        h_target = nets["encoder"](x[i])[0]
        z, mu, logvar = nets["posterior"](h_target)
        _, mu_p, logvar_p = nets["prior"](h)
        x_pred = nets["decoder"]([nets["predictor"](torch.cat([h, z], 1)), skip])
        mse = mse + torch.nn.functional.mse_loss(x_pred, x[i])
        kld = kld + gaussian_kl(mu, logvar, mu_p, logvar_p, batch)
    loss = mse + BETA * kld
    loss.backward()
    for optim in optims:
        optim.step()
    return loss.item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--svg_dir", required=True, help="a checkout of edenton/svg")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        raise SystemExit("error: torch is not installed: pip install -e '.[reference]'") from None
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    nets, optims = build(args.svg_dir, args.batch)
    x = list(torch.rand(CONTEXT + FUTURE, args.batch, 1, WIDTH, WIDTH))
    train_step(nets, optims, x, args.batch)  # warm-up
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        train_step(nets, optims, x, args.batch)
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    result = dict(
        s_per_step=statistics.median(times),
        peak_rss_bytes=peak,
        torch=torch.__version__,
        threads=torch.get_num_threads(),
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
