"""bench-section.py FILE HEADING: replace the "## HEADING" section of FILE
(up to the next "## " heading) with standard input, or append it; the
rest of the file is left as it is. The benchmark scripts share it."""
import re
import sys

path, heading = sys.argv[1], sys.argv[2]
section = sys.stdin.read().rstrip("\n") + "\n"
try:
    text = open(path).read()
except FileNotFoundError:
    text = ""
m = re.search(r"^## " + re.escape(heading) + r"\n.*?(?=^## |\Z)", text, flags=re.S | re.M)
if m:
    text = text[:m.start()] + section + ("\n" if m.end() < len(text) else "") + text[m.end():]
else:
    text = (text.rstrip("\n") + "\n\n" if text else "") + section
open(path, "w").write(text)
