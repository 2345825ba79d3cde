"""The imaging engine: photos (Pillow), DICOM (pydicom and its decoder plugins), NIfTI (nibabel).

Pure: no database, no web framework, no CLI. Modules import NumPy, Pillow, pydicom and nibabel at
their top, so import the module you need (`clinlabel.imaging.render`, ...); importing `clinlabel`
itself never pulls this package in.
"""
