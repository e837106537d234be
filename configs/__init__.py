"""The experiment configs (`--config=configs/<name>.py`); installed as the package `vgen.configs`,
whose files `vgen.config_lib.config_path` finds."""
