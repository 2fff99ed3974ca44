"""Print the parameter table (README "Parameters") from the cited tables in zn_pde.materials.

    python scripts/parameter_table.py --update-readme
"""

import re
import sys
from pathlib import Path

from zn_pde.materials._table import markdown_table

START, END = "<!-- parameter-table:start -->", "<!-- parameter-table:end -->"

if __name__ == "__main__":
    table = markdown_table()
    if "--update-readme" in sys.argv:
        readme = Path(__file__).resolve().parent.parent / "README.md"
        text = readme.read_text()
        new = re.sub(re.escape(START) + ".*?" + re.escape(END),
                     lambda _: f"{START}\n{table}\n{END}", text, flags=re.S)
        readme.write_text(new)
    else:
        print(table)
