"""flax.linen building blocks shared by the methods."""
