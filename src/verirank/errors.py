"""Every error verirank raises on purpose derives from :class:`VerirankError`.

    VerirankError
    ├── ConfigError            a bad option, level, mode or config value
    ├── InputError             bad user input: empty text, duplicate id, NaN, unknown id
    │   └── DimensionMismatch  a vector of the wrong width
    ├── MissingDependency      an optional extra is not installed (says which)
    ├── IndexError_            a missing, corrupt or incompatible index
    │   └── EncoderMismatch    the index was built by another encoder / token head
    ├── BackendUnavailable     a server backend (PostgreSQL) cannot be reached
    └── CheckpointError        a missing, corrupt or incompatible verifier checkpoint

Each message says what was wrong, the value, and what to do about it.
"""

from __future__ import annotations


class VerirankError(Exception):
    """Base of every error raised by verirank."""


class ConfigError(VerirankError, ValueError):
    """A configuration value is invalid."""


class InputError(VerirankError, ValueError):
    """User input is invalid (empty text, duplicate id, NaN, unknown id...)."""


class DimensionMismatch(InputError):
    """A vector or token-state array has the wrong width."""


class MissingDependency(VerirankError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class IndexError_(VerirankError):
    """An index directory is missing, corrupt or incompatible."""


class EncoderMismatch(IndexError_):
    """The index was built with a different encoder or token head."""


class BackendUnavailable(VerirankError):
    """A server backend cannot be reached (connection refused, timeout)."""


class CheckpointError(VerirankError):
    """A verifier checkpoint is missing, corrupt or incompatible."""


__all__ = [
    "BackendUnavailable",
    "CheckpointError",
    "ConfigError",
    "DimensionMismatch",
    "EncoderMismatch",
    "IndexError_",
    "InputError",
    "MissingDependency",
    "VerirankError",
]
