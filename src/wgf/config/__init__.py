"""The configuration as plain data: one source of defaults, the schema, per-target settings.

Importing it needs neither torch nor any registry, so the workflow builds its DAG from it in a
fraction of a second. :func:`wgf.plan.prepare` adds the checks against the registries.
"""

from .defaults import DEFAULTS
from .load import ConfigError, key_name, merge, prepare, read_yaml, schema

__all__ = ["DEFAULTS", "ConfigError", "key_name", "merge", "prepare", "read_yaml", "schema"]
