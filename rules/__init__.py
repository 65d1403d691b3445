"""putlint's shipped rules: YAML files, loaded with importlib.resources as `putlint.rules`."""
