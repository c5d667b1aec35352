"""MkDocs hook: Jinja templates compiled once and kept in .cache/jinja, not at every build.

A build renders pages through three Jinja environments: the theme's (Material), a second copy of
it that print-site makes for the print page, and mkdocstrings' for the API page. Each compiled its
~115 templates anew at every build, which was most of a rebuild with nothing changed. Jinja's
FileSystemBytecodeCache keys a compiled template by its name and a checksum of its source, so an
edited or upgraded template is compiled again: the cache cannot serve a stale page.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import FileSystemBytecodeCache


def _cache(config) -> FileSystemBytecodeCache:
    folder = Path(config.config_file_path).resolve().parent / ".cache" / "jinja"
    folder.mkdir(parents=True, exist_ok=True)
    return FileSystemBytecodeCache(str(folder))


def on_config(config):
    cache = _cache(config)
    theme = config.theme
    make_env = type(theme).get_env

    def get_env():  # the theme's environment, as mkdocs and print-site each ask for it
        env = make_env(theme)
        env.bytecode_cache = cache
        return env

    theme.get_env = get_env
    if "mkdocstrings" in config.plugins:  # hooks run after the plugins, whose handlers exist now
        config.plugins["mkdocstrings"].handlers.get_handler("python").env.bytecode_cache = cache
    return config
