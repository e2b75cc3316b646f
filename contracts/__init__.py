"""The bottom layer: what crosses a boundary, declared once.

- `contracts.export`: the evidence-export contract (files, columns, vocabularies, rules).
- `contracts.files`: an export as read (`Export`, `LoadedFile`, `ExportError`) and the pandas
  type each contract column is read as.
- `contracts.tables`: every table a run writes (name, files, columns, types, meaning).
- `contracts.vocabulary`: the stages, claim checks and cross-check verdicts.
- `contracts.params`: every parameter and threshold of a run (`RunConfig`).
- `contracts.spreadsheet`: the one rule for CSVs people open.

Everything else imports from here; this package imports nothing of takehold's.
"""
