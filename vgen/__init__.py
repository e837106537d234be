"""vgen: generative video models in JAX/Flax (feature-flow GAN, ALI/RALI, SVG, multimodal VAE)."""

__version__ = "0.1.0"
