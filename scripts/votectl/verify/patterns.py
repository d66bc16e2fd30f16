"""CRD schemas carry Go (RE2) regular expressions; Python's `re` rejects some RE2 syntax, so translate it."""

from __future__ import annotations

import re
from functools import lru_cache

# An inline flag group such as (?i) or (?ims); RE2 applies it from there to the end of the enclosing group,
# Python 3.11 only accepts it at the very start of the whole expression.
_INLINE_FLAGS = re.compile(r"\(\?([imsx]+)\)")


def _scope_inline_flags(pattern: str) -> str:
    """Rewrite `a(?i)b|c` as `a(?i:b)|(?i:c)`: the same meaning, in a form Python accepts."""
    out: list[str] = []
    scoped: list[list[str]] = [[]]  # per open group: the flag groups opened inside it, closed at its end
    index = 0
    in_class = False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif (flags := _INLINE_FLAGS.match(pattern, index)) and index > 0:
            out.append(f"(?{flags.group(1)}:")
            scoped[-1].append(flags.group(1))
            index = flags.end()
            continue
        elif char == "(":
            scoped.append([])
        elif char == ")" and len(scoped) > 1:
            out.append(")" * len(scoped.pop()))
        elif char == "|" and scoped[-1]:
            # an alternative keeps the flags but must not be swallowed by the scoped group
            out.append(")" * len(scoped[-1]) + "|" + "".join(f"(?{f}:" for f in scoped[-1]))
            index += 1
            continue
        out.append(char)
        index += 1
    out.append(")" * len(scoped[0]))
    return "".join(out)


@lru_cache(maxsize=1024)
def compile_re2(pattern: str) -> re.Pattern[str]:
    """Compile as Python first (nearly every schema pattern); translate RE2-only syntax when that fails."""
    try:
        return re.compile(pattern)
    except re.error:
        return re.compile(_scope_inline_flags(pattern).replace(r"\z", r"\Z"))
