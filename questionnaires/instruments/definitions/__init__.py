"""One module per instrument (or family); importing a module registers its definitions.

Every module in this package is imported, so adding an instrument is adding a file.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
