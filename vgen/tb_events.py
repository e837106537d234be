"""Reading back the TensorBoard summaries a run wrote (clu's writer: scalars and images)."""

import io

import numpy as np
from PIL import Image


def read_events(directory: str) -> dict[str, dict[str, dict[int, object]]]:
    """The TensorBoard summaries of `directory`'s event files: {plugin ("scalars", "images"):
    {tag: {step: value}}}; a scalar as a float, an image as a uint8 array [H, W, 3]."""
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.util import tensor_util

    acc = event_accumulator.EventAccumulator(
        directory, size_guidance={event_accumulator.TENSORS: 0}
    )
    acc.Reload()
    out: dict[str, dict[str, dict[int, object]]] = {}
    for tag in acc.Tags()["tensors"]:
        plugin = acc.SummaryMetadata(tag).plugin_data.plugin_name
        for event in acc.Tensors(tag):
            value = tensor_util.make_ndarray(event.tensor_proto)
            if plugin == "images":  # [width, height, PNG bytes]
                value = np.asarray(Image.open(io.BytesIO(value[2])).convert("RGB"))
            else:
                value = float(value)
            out.setdefault(plugin, {}).setdefault(tag, {})[event.step] = value
    return out
