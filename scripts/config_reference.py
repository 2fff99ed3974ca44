"""Write docs/config.md, the config reference, from the schema and the material tables.

    python scripts/config_reference.py            # rewrite docs/config.md
    python scripts/config_reference.py --check    # exit 1 if docs/config.md is not current

Run it after changing zn_pde/config/_schema.py or a material table (zn_pde/materials);
tests/test_config_reference.py fails until docs/config.md is current.
"""

import sys
from pathlib import Path

from zn_pde.config._reference import markdown

PAGE = Path(__file__).resolve().parent.parent / "docs" / "config.md"

if __name__ == "__main__":
    text = markdown()
    if "--check" in sys.argv:
        current = PAGE.read_text() if PAGE.is_file() else ""
        if current != text:
            print(f"{PAGE} is not current: run python scripts/config_reference.py",
                  file=sys.stderr)
            raise SystemExit(1)
        print(f"{PAGE} is current")
    else:
        PAGE.write_text(text)
        print(f"wrote {PAGE}")
