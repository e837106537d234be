"""The method's own figures (its optional `write_figures` hook: ALI's sample,
reconstruction and interpolation grids, the MVAE's predictions, ...).

results.json: {"figures": {name: path}}, paths relative to the workdir, written into
<workdir>/eval/figures/ from the first 8 evaluation clips.
"""

import os
from typing import Any

import jax

from vgen.evaluators import EvalContext, rng_for

REQUIRES = ("write_figures",)
FIGURE_CLIPS = 8


def run(ctx: EvalContext) -> dict[str, Any]:
    """Calls `method.write_figures` into <workdir>/eval/figures; lists what it wrote."""
    clips = jax.tree.map(lambda x: x[:FIGURE_CLIPS], ctx.clips)
    outdir = os.path.join(ctx.outdir, "figures")
    rng = rng_for(ctx, "figures")
    paths = ctx.method.write_figures(ctx.config, ctx.state, clips, rng, outdir)
    listed = {name: os.path.relpath(path, ctx.workdir) for name, path in sorted(paths.items())}
    print(f"figures: {', '.join(listed.values())}")
    return {"figures": listed}
