"""The analysis pipeline, one module per Lambda role: validate, infer, aggregate, export, references, failures."""
