"""Export a trained model in several formats, each verified after writing.

``export_model(run_or_model, format, path, ...) -> ExportResult`` writes one format under a
temporary name, reloads it in its own runtime (Keras, SavedModel signature, TFLite, ONNX Runtime,
a fresh Python interpreter), compares its outputs with the Keras model on real samples and only
then moves it into place, with a ``.meta.json`` beside it. See ARCHITECTURE.md "Export".
"""

from studio.core.export.batch import export_formats
from studio.core.export.exporter import export_model, meta_path, script_weights_path
from studio.core.export.formats import FORMATS, FormatSpec, default_file_name, format_spec
from studio.core.export.report import (ExportError, ExportResult, ExportTargetExistsError, ExportVerificationError,
                                       format_size)
from studio.core.export.source import ExportSource, open_source

__all__ = ["FORMATS", "ExportError", "ExportResult", "ExportSource", "ExportTargetExistsError",
           "ExportVerificationError", "FormatSpec",
           "default_file_name", "export_formats", "export_model", "format_size", "format_spec", "meta_path", "open_source",
           "script_weights_path"]
