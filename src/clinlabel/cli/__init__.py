"""The `clinlabel` command line: one small module per command family, loaded on demand.

Commands are looked up lazily so that `clinlabel --help` or `clinlabel scan` does not import
FastAPI, pydicom or NumPy. Every `ClinlabelError` becomes one line on stderr and exit status 2
(in `clinlabel.cli.app`), never a traceback.
"""

from clinlabel.cli.app import main

__all__ = ["main"]
