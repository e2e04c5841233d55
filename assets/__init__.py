"""Bundled data (installed as ``colouru.assets``): the default model, example photos, icons."""
