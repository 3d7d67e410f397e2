"""Cross-cutting HTTP concerns: request ids, access logs, metrics, errors."""
