"""The computer: where approved code runs (Executor seam, one class per language)."""
