"""One error root for agentwatch; every error says where it happened."""

from __future__ import annotations


class AgentwatchError(Exception):
    """Root of every error agentwatch raises on purpose; `where` names the file, line or setting."""

    def __init__(self, message: str, where: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.message} in {self.where}" if self.where else self.message


class InputError(AgentwatchError):
    """An input path cannot be read as a whole (missing, unreadable, corrupt compression)."""


class RecordError(AgentwatchError):
    """One record cannot be turned into events; its message is the quarantine reason."""


class ConfigError(AgentwatchError):
    """A setting, inventory or rule file is invalid."""


class InvalidSql(AgentwatchError):
    """A query the read-only SQL surface refuses."""


class LakeError(AgentwatchError):
    """The lake is inconsistent or locked."""


class TamperError(LakeError):
    """`verify` found the lake changed after the fact."""
