"""clinlabel: an offline-first workbench for labelling clinical images.

Importing this package pulls in nothing heavy (no NumPy, pydicom or FastAPI): the CLI starts fast
and each face imports only what it uses.
"""

__version__ = "0.1.0"
