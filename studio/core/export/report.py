"""What an export produced, and the errors that stop one."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class ExportError(ValueError):
    """An export that cannot be made (bad input, a layer the format cannot express); one-line message."""


class ExportTargetExistsError(ExportError):
    """The export's target path already exists and replacing was not asked for; each front end says
    how to ask (the CLI's ``--force``, the Export panel's "Replace existing files")."""

    def __init__(self, path) -> None:
        super().__init__(f"{path} already exists")
        self.path = path


class ExportVerificationError(ExportError):
    """The exported file does not reproduce the Keras model; nothing is left at the target path."""

    def __init__(self, message: str, result: ExportResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class ExportResult:
    """One export and its verification.

    ``latency_ms`` is the median single-sample CPU inference time in the format's own runtime;
    ``max_abs_diff`` and ``argmax_agreement`` compare the reloaded export with the Keras model on
    real samples (``argmax_agreement`` is None when the output is not a class score).
    """

    format: str
    path: str
    size_bytes: int = 0
    latency_ms: float | None = None
    max_abs_diff: float | None = None
    argmax_agreement: float | None = None
    ok: bool = False
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    samples: int = 0
    tolerance: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One line for a table or a log: format, verdict, size, latency and agreement."""
        parts = [f"{self.format}: {'ok' if self.ok else 'FAILED'}", format_size(self.size_bytes)]
        if self.latency_ms is not None:
            parts.append(f"{self.latency_ms:.3f} ms/sample")
        if self.max_abs_diff is not None:
            parts.append(f"max |diff| {self.max_abs_diff:.2e}")
        if self.argmax_agreement is not None:
            parts.append(f"argmax agreement {self.argmax_agreement:.2%}")
        return ", ".join(parts)


def format_size(size: int) -> str:
    """Bytes as B / KiB / MiB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 ** 2:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 1024 ** 2:.2f} MiB"
