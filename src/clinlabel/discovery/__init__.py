"""Discovery: a batch folder in, a stream of image references out; no decoding, no database."""

from clinlabel.discovery.layout import EXPECTED_LAYOUT, is_clinical_folder
from clinlabel.discovery.naming import natural_key, natural_sorted
from clinlabel.discovery.scan import EMPTY_FILE, scan_batch

__all__ = [
    "EMPTY_FILE",
    "EXPECTED_LAYOUT",
    "is_clinical_folder",
    "natural_key",
    "natural_sorted",
    "scan_batch",
]
