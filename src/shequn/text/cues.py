"""The cue scanner the feedback and off-topic rules share: a table of regexes, scanned fast.

Both rules keep their cues as a table of patterns and want what ``re.finditer`` over the whole
alternation would give. Python's regex engine tries a long alternation's branches one by one at
every position, so ``CueScanner`` first finds, with one small regex, the places where some cue can
start (worked out from the parsed patterns), and tries only the cues that can start there.
``fold`` is the form (NFKC, lower case) the cue tables are written for.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["CueScanner", "JointScanner", "fold"]

# The regex parser of the standard library (re._parser), to work out how cues can start. It has
# no type stubs, hence Any; only its parse tree's long-stable opcodes are used.
_sre: Any = importlib.import_module("re._parser")
# Characters of each cue's possible starts that the lead search looks for. Five rather than
# three: English cues share their first letters ("is ", "tha", "rea"), and every place the lead
# finds costs a try of the cues in Python; five halves those places (1.35 to 0.65 a message on
# the feedback table) for a longer lead pattern, 8% less time in both scans.
_PREFIX_LEN = 5
_MAX_PREFIXES = 400  # per cue; a cue with more possible starts is looked for by fewer characters
_MAX_CLASS = 40  # a character class larger than this ends a prefix


def _class_chars(items: list[Any]) -> set[str] | None:
    """The characters of a parsed character class, or None when they are many or unclear."""
    chars: set[str] = set()
    for op, av in items:
        if op is _sre.LITERAL:
            chars.add(chr(av))
        elif op is _sre.RANGE and av[1] - av[0] < _MAX_CLASS:
            chars.update(map(chr, range(av[0], av[1] + 1)))
        elif op is _sre.CATEGORY and av is _sre.CATEGORY_DIGIT:
            chars.update("0123456789")
        else:
            return None  # negated classes, \\w, \\s, big ranges
    return chars if len(chars) <= _MAX_CLASS else None


def _starts(items: list[Any], k: int) -> set[str]:
    """Strings of at most k characters such that every match of the parsed pattern `items`
    starts with one of them; a shorter string means nothing more is known after it ("" always
    holds, it is what an unclear piece gives)."""
    if k == 0 or not items:
        return {""}
    (op, av), rest = items[0], items[1:]
    if op is _sre.LITERAL:
        return {chr(av) + tail for tail in _starts(rest, k - 1)}
    if op is _sre.IN:
        chars = _class_chars(av)
        if chars is None:
            return {""}
        tails = _starts(rest, k - 1)
        return {c + tail for c in chars for tail in tails}
    if op is _sre.BRANCH:
        return set().union(*(_starts([*alt, *rest], k) for alt in av[1]))
    if op is _sre.SUBPATTERN:
        _group, add_flags, _del, sub = av
        return {""} if add_flags & re.IGNORECASE else _starts([*sub, *rest], k)
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
        low, _high, sub = av
        once = _starts(list(sub), k)  # what follows the repeated piece is not looked at
        return once | _starts(rest, k) if low == 0 else once
    if op in (_sre.ASSERT, _sre.ASSERT_NOT, _sre.AT):
        return _starts(rest, k)  # zero-width: the match starts with what comes next
    return {""}


def _cue_starts(pattern: str) -> tuple[str, ...]:
    """Every way a match of the pattern can start (1 to _PREFIX_LEN characters); ValueError
    when a match could start with any character."""
    parsed = list(_sre.parse(pattern, 0))
    for k in range(_PREFIX_LEN, 0, -1):
        found = _starts(parsed, k)
        if "" in found:
            break
        if len(found) <= _MAX_PREFIXES:
            return tuple(sorted(found))
    raise ValueError(f"every cue must start with a known character: {pattern!r}")


def _lead_pattern(starts: set[str]) -> str:
    """One regex finding where any of the starts occurs; a start with a Latin first letter only
    counts at the start of a word (the cues that begin with a Latin word say so themselves).

    The starts are written as a trie behind a lookahead of their first characters: the regex
    engine tries a long alternation's branches one by one, so without the lookahead every
    position would cost a check per first character.
    """
    latin = {s for s in starts if s[0].isascii() and s[0].isalpha()}
    parts = []
    for group, guard in ((latin, "(?<![a-z])"), (starts - latin, "")):
        if group:
            firsts = "".join(re.escape(c) for c in sorted({s[0] for s in group}))
            parts.append(f"{guard}(?=[{firsts}])(?:{'|'.join(_trie_parts(_trie(group)))})")
    return "|".join(parts)


def _trie(starts: set[str]) -> dict[str, Any]:
    """The starts as nested dicts, one level a character; None marks where a start ends."""
    trie: dict[str, Any] = {}
    for start in sorted(starts, key=len):  # shorter first: a longer one under it adds nothing
        node: Any = trie
        for char in start[:-1]:
            node = node.setdefault(char, {})
            if node is None:  # a shorter start ends here
                break
        else:
            node[start[-1]] = None
    return trie


def _trie_parts(node: dict[str, Any]) -> list[str]:
    parts = []
    for char, child in sorted(node.items()):
        rest = _trie_parts(child) if child else []
        tail = rest[0] if len(rest) == 1 else f"(?:{'|'.join(rest)})" if rest else ""
        parts.append(re.escape(char) + tail)
    return parts


def _cues_by_lead(
    every: set[str], starts: Sequence[tuple[str, ...]]
) -> dict[str, list[tuple[int, tuple[str, ...] | None]]]:
    """For each start the lead search can find (one that no shorter start in ``every`` is a
    prefix of): the cues of the table (``starts``, per cue) with a start that begins with it, in
    table order, with those starts to check (None: the lead itself, nothing left to check)."""
    by_lead: dict[str, list[tuple[int, tuple[str, ...] | None]]] = {}
    for lead in every:
        if any(lead[:k] in every for k in range(1, len(lead))):
            continue
        by_lead[lead] = []
        for i, cue in enumerate(starts):
            longer = tuple(s for s in cue if s.startswith(lead))
            if longer:
                by_lead[lead].append((i, None if longer == (lead,) else longer))
    return by_lead


def fold(text: str) -> str:
    """NFKC (full-width ＡＢＣ１２３！ to ASCII) and lower case: the form the cue tables match."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.lower()


class CueScanner:
    """A table of cue patterns, scanned over lower-cased text.

    Python's regex engine is slow on a long alternation, so the scan first finds, with one
    regex built from the first five characters every cue can start with (worked out from the
    parsed patterns; a Latin start only at the start of a word), the places where some cue can
    start, then tries there only the cues that can start with what was found, in table order.
    Matches do not overlap: the result is what ``re.finditer`` on the whole alternation gives.
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        self.cues = [re.compile(p) for p in patterns]
        self.starts = [_cue_starts(p) for p in patterns]
        every = {s for cue in self.starts for s in cue}
        self._lead = re.compile(_lead_pattern(every))
        self._by_lead = _cues_by_lead(every, self.starts)

    def scan(self, text: str) -> Iterator[tuple[int, re.Match[str]]]:
        """(index of the cue, its match) for each cue found in ``text``, left to right."""
        search, cues, by_lead = self._lead.search, self.cues, self._by_lead
        lead = search(text)
        while lead:
            start = lead.start()
            pos = start + 1
            for i, check in by_lead[lead.group()]:
                if check is None or text.startswith(check, start):
                    hit = cues[i].match(text, start)
                    if hit:
                        yield i, hit
                        pos = max(hit.end(), pos)
                        break
            lead = search(text, pos)


Hit = tuple[int, re.Match[str]]


class JointScanner:
    """Several cue tables scanned in one pass: ``scan(text)`` gives, for each table, exactly
    what its own ``CueScanner.scan(text)`` gives.

    The lead search costs about as much per character whatever it looks for, so one search
    for the starts of every table costs less than one per table. Each table keeps its own
    place: after a cue of a table matched, that table looks again only after the match.
    """

    def __init__(self, *scanners: CueScanner) -> None:
        self._tables = len(scanners)
        every = {s for scanner in scanners for cue in scanner.starts for s in cue}
        self._lead = re.compile(_lead_pattern(every))
        # per lead, the cues to try there: table by table, each in table order
        self._by_lead: dict[str, list[tuple[int, int, tuple[str, ...] | None, re.Pattern[str]]]]
        self._by_lead = {}
        for t, scanner in enumerate(scanners):
            for lead, cues in _cues_by_lead(every, scanner.starts).items():
                tried = self._by_lead.setdefault(lead, [])
                tried += [(t, i, check, scanner.cues[i]) for i, check in cues]

    def scan(self, text: str) -> list[list[Hit]]:
        """Each table's (index of the cue, its match) list for ``text``, left to right."""
        search, by_lead = self._lead.search, self._by_lead
        found: list[list[Hit]] = [[] for _ in range(self._tables)]
        after = [0] * self._tables  # where each table may match next
        lead = search(text)
        while lead:
            start = lead.start()
            for t, i, check, cue in by_lead[lead.group()]:
                # a table's first cue to match here ends its turn: `after` moves past start
                if start >= after[t] and (check is None or text.startswith(check, start)):
                    hit = cue.match(text, start)
                    if hit:
                        found[t].append((i, hit))
                        after[t] = max(hit.end(), start + 1)
            lead = search(text, start + 1)
        return found
