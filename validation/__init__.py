"""Validation of evidence exports against the contract, with Great Expectations 1.x.

Public API (the CLI's `takehold validate` and the nightly flow both call it):
`validate_export(export, as_of, params, today=...) -> ValidationResult` and
`write_validation_outputs(result, out_dir)`. See `validation/README.md` for what is blocked,
what is quarantined, and which harmless variations are normalised rather than rejected.
"""

from validation.outputs import write_validation_outputs
from validation.result import Finding, ValidationResult

__all__ = [
    "Finding",
    "ValidationResult",
    "validate_export",
    "write_validation_outputs",
]


def __getattr__(name: str):
    # Great Expectations takes seconds to import; load it only when a validation runs, so
    # the report, the config and the CLI's --help start fast.
    if name == "validate_export":
        from validation.validate import validate_export

        return validate_export
    raise AttributeError(f"module 'validation' has no attribute {name!r}")
