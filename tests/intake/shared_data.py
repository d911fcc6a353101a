"""Where the reference test vectors live: ../shared/data beside the checkout (CI), else the workplace copy."""

from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
_CANDIDATES = [_ROOT.parent / "shared" / "data", _ROOT / "shared" / "data", Path("/work/shared/data")]
SHARED_DATA = next((p for p in _CANDIDATES if p.is_dir()), _CANDIDATES[0])
