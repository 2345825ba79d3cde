"""Synthetic data for demos and benchmarks; never real patient data.

The heavy imports (Pillow, and NumPy/pydicom for the medical files) happen in the submodules, so
importing this package stays cheap.
"""
