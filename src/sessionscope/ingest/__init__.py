"""Ingestion: parse a body or file into documents, validate and normalise them into Arrow tables."""

from .normalise import Limits, NormalisedBatch, normalise_batch
from .parse import gc_paused, iter_ndjson_file, iter_parquet_file, parse_body

__all__ = [
    "Limits",
    "gc_paused",
    "NormalisedBatch",
    "iter_ndjson_file",
    "iter_parquet_file",
    "normalise_batch",
    "parse_body",
]
