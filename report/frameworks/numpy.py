"""NumPy as a framework: its version keys a run; nothing to import or start."""

from dlreport.frameworks import Framework

NUMPY = Framework("numpy", "NumPy", ("numpy",))
