"""Rule modules, one per rule family. Importing this package registers every rule."""
import importlib
import pkgutil

from checks import views as _views  # noqa: F401  (shared derived relations first)

for _m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_m.name}")
