"""Platform readers. Importing this package registers the built-in ones.

To add a platform: add a module here with a `Parser` subclass decorated with `@register`, and
add its module name to BUILTIN below. Nothing else changes.
"""

from importlib import import_module

BUILTIN = ("telegram", "discord", "slack", "whatsapp", "wechat", "qq", "generic")

for _name in BUILTIN:
    try:
        import_module(f"shequn.platforms.{_name}")
    except ModuleNotFoundError as exc:  # a platform module not written yet
        if exc.name != f"shequn.platforms.{_name}":
            raise
