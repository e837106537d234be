"""Array operators used by the models (feature flow, correlation)."""
