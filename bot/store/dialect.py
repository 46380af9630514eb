"""SQLite SQL → PostgreSQL SQL, mechanically: the store's statements and migrations are written
once, in SQLite's dialect, and the PostgreSQL backend translates each one the first time it
runs (then from a cache). So a migration or a store method added later in SQLite syntax works
on PostgreSQL without a second copy.

What is translated (token by token, string literals and quoted names left alone):

- placeholders ``?`` → ``%s`` (a literal ``%`` doubled); ``[name]`` → ``"name"``;
  the ``main.`` / ``temp.`` schema prefixes dropped;
- types: ``INTEGER`` → ``BIGINT`` (milliseconds and Discord ids), ``REAL`` → ``DOUBLE
  PRECISION``, ``BLOB`` → ``BYTEA``, ``TEXT`` in a table definition → ``TEXT COLLATE "C"``
  (SQLite compares text bytewise: the same order on both), ``INTEGER PRIMARY KEY
  AUTOINCREMENT`` → an identity column; ``WITHOUT ROWID`` dropped;
- ``INSERT OR IGNORE`` → ``… ON CONFLICT DO NOTHING``; ``INSERT OR REPLACE`` / ``REPLACE INTO``
  → ``… ON CONFLICT (primary key) DO UPDATE SET`` every other column;
- ``ON CONFLICT DO UPDATE`` without a target gets the table's primary key, and bare column
  names in its ``SET``/``WHERE`` expressions are qualified with the table (PostgreSQL finds
  them ambiguous beside ``excluded``);
- scalar ``MAX(a, b)`` / ``MIN(a, b)`` → ``GREATEST`` / ``LEAST``; ``IFNULL`` → ``COALESCE``;
  ``LIKE`` → ``ILIKE`` (SQLite's LIKE ignores ASCII case);
- ``ORDER BY`` a nullable column gets SQLite's NULL placement (first ascending, last
  descending);
- an ``INSERT`` into a table with an identity column gets ``RETURNING`` it (the cursor's
  ``lastrowid``).

What is not: SQLite-only functions (``strftime``, ``json_extract``, ``group_concat``…) and
PRAGMAs. The backend handles PRAGMAs itself (schema version, data version, vacuum); a method
that needs one of those functions gets its own small PostgreSQL variant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""'(?:[^']|'')*'"""  # string literal
    r'''|"(?:[^"]|"")*"'''  # quoted name
    r"|\[[^\]]*\]"  # [bracketed name]
    r"|--[^\n]*"  # comment
    r"|[A-Za-z_][A-Za-z0-9_$]*"  # word
    r"|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?"  # number
    r"|\s+"
    r"|.",
    re.S,
)

_TYPES = {"INTEGER": "BIGINT", "INT": "BIGINT", "REAL": "DOUBLE PRECISION", "BLOB": "BYTEA"}
_CLAUSE_END = {"LIMIT", "OFFSET", "UNION", "EXCEPT", "INTERSECT", "ON", "RETURNING", "WINDOW"}
_DIRECTIONS = {"ASC", "DESC"}


@dataclass
class Catalog:
    """What translation needs to know about the tables (read from PostgreSQL's catalog)."""

    primary_keys: dict[str, list[str]] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)
    identity: dict[str, str] = field(default_factory=dict)  # table → its identity column
    nullable: set[str] = field(default_factory=set)  # column names nullable in some table


def tokens(sql: str) -> list[str]:
    return _TOKEN.findall(sql)


def _up(tok: str) -> str:
    return tok.upper()


def _is_word(tok: str) -> bool:
    return bool(tok) and (tok[0].isalpha() or tok[0] == "_")


def _next(toks: list[str], i: int) -> int:
    """Index of the next token after ``i`` that is not whitespace or a comment (len when none)."""
    i += 1
    while i < len(toks) and (toks[i].isspace() or toks[i].startswith("--")):
        i += 1
    return i


def _prev(toks: list[str], i: int) -> int:
    i -= 1
    while i >= 0 and (toks[i].isspace() or toks[i].startswith("--")):
        i -= 1
    return i


def _words(toks: list[str]) -> list[str]:
    return [_up(t) for t in toks if _is_word(t)]


class Translator:
    """SQLite statements → PostgreSQL, cached per statement text."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog or Catalog()
        self._cache: dict[tuple[str, bool], str] = {}

    def __call__(self, sql: str, *, returning: bool = True) -> str:
        key = (sql, returning)
        out = self._cache.get(key)
        if out is None:
            out = self._cache[key] = translate(sql, self.catalog, returning=returning)
        return out

    def reset(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._cache.clear()


def translate(sql: str, catalog: Catalog, *, returning: bool = True) -> str:
    """One SQLite statement in PostgreSQL's dialect (see the module's docstring)."""
    toks = tokens(sql)
    words = _words(toks)
    ddl = len(words) >= 2 and words[0] in ("CREATE", "ALTER") and "TABLE" in words[1:4]
    toks = _lexical(toks, ddl=ddl)
    if ddl:
        toks = _ddl(toks)
    toks = _functions(toks)
    toks = _order_nulls(toks, catalog)
    if words and words[0] in ("INSERT", "REPLACE"):
        toks = _insert(toks, catalog, returning=returning)
    return "".join(toks)


def _lexical(toks: list[str], *, ddl: bool) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        up = _up(tok)
        if up in ("MAIN", "TEMP") and i + 1 < len(toks) and toks[i + 1] == ".":
            i += 2  # schema prefix: PostgreSQL finds temp tables first on its own
            continue
        if tok == "?":
            out.append("%s")
        elif tok == "%":
            out.append("%%")
        elif tok.startswith("'"):
            out.append(tok.replace("%", "%%"))  # psycopg reads placeholders inside literals too
        elif tok.startswith("["):
            out.append('"' + tok[1:-1].replace('"', '""') + '"')
        elif up in _TYPES and (ddl or _cast_type(out)):
            out.append(_TYPES[up])
        elif up == "LIKE":
            out.append("ILIKE")
        elif up == "IFNULL":
            out.append("COALESCE")
        else:
            out.append(tok)
        i += 1
    return out


def _cast_type(out: list[str]) -> bool:
    """Whether the next token is the type of ``CAST(x AS …)``."""
    j = _prev(out, len(out))
    return j >= 0 and _up(out[j]) == "AS" and "CAST" in (_up(t) for t in out[-40:])


def _ddl(toks: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(toks):
        up = _up(toks[i])
        if up == "WITHOUT" and _up(toks[_next(toks, i)]) == "ROWID":
            i = _next(toks, i) + 1
            continue
        if up == "AUTOINCREMENT":
            # BIGINT PRIMARY KEY AUTOINCREMENT → BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY
            k = len(out) - 1
            while k >= 0 and _up(out[k]) != "BIGINT":
                k -= 1
            if k >= 0:
                out.insert(k + 1, " GENERATED BY DEFAULT AS IDENTITY")
            while out and out[-1].isspace():
                out.pop()
            i += 1
            continue
        out.append(toks[i])
        if up == "TEXT" and _next(toks, i) < len(toks) and _up(toks[_next(toks, i)]) != "COLLATE":
            out.append(' COLLATE "C"')
        i += 1
    return out


def _functions(toks: list[str]) -> list[str]:
    """Scalar MAX/MIN (two or more arguments) → GREATEST/LEAST."""
    out = list(toks)
    for i, tok in enumerate(out):
        up = _up(tok)
        if up not in ("MAX", "MIN"):
            continue
        j = _next(out, i)
        if j >= len(out) or out[j] != "(":
            continue
        depth, commas = 0, 0
        for k in range(j, len(out)):
            if out[k] == "(":
                depth += 1
            elif out[k] == ")":
                depth -= 1
                if depth == 0:
                    break
            elif out[k] == "," and depth == 1:
                commas += 1
        if commas:
            out[i] = "GREATEST" if up == "MAX" else "LEAST"
    return out


def _order_nulls(toks: list[str], catalog: Catalog) -> list[str]:
    """SQLite sorts NULL first ascending, PostgreSQL last: say SQLite's order for the ``ORDER
    BY`` terms that are a nullable column (a NOT NULL column keeps its index-friendly order)."""
    if not catalog.nullable:
        return toks
    out: list[str] = []
    i = 0
    while i < len(toks):
        out.append(toks[i])
        if _up(toks[i]) == "ORDER" and _up(toks[_next(toks, i)]) == "BY":
            j = _next(toks, i)
            out.extend(toks[i + 1 : j + 1])
            i = _order_terms(toks, j + 1, out, catalog)
            continue
        i += 1
    return out


def _order_terms(toks: list[str], i: int, out: list[str], catalog: Catalog) -> int:
    """Copy the ORDER BY list starting at ``i`` into ``out``, adding NULLS FIRST/LAST; returns
    where the list ended."""
    term: list[str] = []
    depth = 0

    def flush() -> None:
        significant = [t for t in term if not t.isspace()]
        direction = "ASC"
        if significant and _up(significant[-1]) in _DIRECTIONS:
            direction = _up(significant.pop())
        plain = [t for t in significant if t != "."]
        nullable = (
            len(plain) in (1, 2)
            and all(_is_word(t) for t in plain)
            and plain[-1].lower() in catalog.nullable
            and "NULLS" not in _words(term)
        )
        out.extend(term)
        if nullable:
            out.append(" NULLS FIRST" if direction == "ASC" else " NULLS LAST")
        term.clear()

    while i < len(toks):
        tok = toks[i]
        if tok == "(":
            depth += 1
        elif tok == ")":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and (tok == ";" or _up(tok) in _CLAUSE_END):
            break
        if depth == 0 and tok == ",":
            flush()
            out.append(tok)
        else:
            term.append(tok)
        i += 1
    # trailing whitespace belongs after the NULLS clause
    tail: list[str] = []
    while term and term[-1].isspace():
        tail.insert(0, term.pop())
    flush()
    out.extend(tail)
    return i


def _insert(toks: list[str], catalog: Catalog, *, returning: bool) -> list[str]:
    words = _words(toks)
    conflict = ""
    table = _insert_table(toks)
    if words[0] == "REPLACE" or words[:3] == ["INSERT", "OR", "REPLACE"]:
        toks = _drop_or(toks)
        conflict = _replace_clause(table, catalog)
    elif words[:3] == ["INSERT", "OR", "IGNORE"]:
        toks = _drop_or(toks)
        conflict = " ON CONFLICT DO NOTHING"
    if conflict:
        toks = _strip_end(toks)
        toks.append(conflict)
    else:
        toks = _conflict_target(toks, table, catalog)
    ident = catalog.identity.get(table or "")
    if returning and ident and "RETURNING" not in _words(toks):
        toks = _strip_end(toks)
        toks.append(f" RETURNING {ident}")
    return toks


def _drop_or(toks: list[str]) -> list[str]:
    """``INSERT OR X INTO`` / ``REPLACE INTO`` → ``INSERT INTO``."""
    i = _next(toks, -1)
    j = i
    while _up(toks[j]) != "INTO":
        j += 1
    return [*toks[:i], "INSERT ", *toks[j:]]


def _strip_end(toks: list[str]) -> list[str]:
    toks = list(toks)
    while toks and (toks[-1].isspace() or toks[-1] == ";"):
        toks.pop()
    return toks


def _insert_table(toks: list[str]) -> str | None:
    for i, tok in enumerate(toks):
        if _up(tok) == "INTO":
            j = _next(toks, i)
            return toks[j].strip('"').lower() if j < len(toks) else None
    return None


def _replace_clause(table: str | None, catalog: Catalog) -> str:
    pk = catalog.primary_keys.get(table or "")
    if not pk:
        raise ValueError(f"INSERT OR REPLACE into {table}: no primary key known to translate it")
    rest = [c for c in catalog.columns.get(table or "", []) if c not in pk]
    if not rest:
        return " ON CONFLICT DO NOTHING"
    sets = ", ".join(f"{c} = excluded.{c}" for c in rest)
    return f" ON CONFLICT ({', '.join(pk)}) DO UPDATE SET {sets}"


def _conflict_target(toks: list[str], table: str | None, catalog: Catalog) -> list[str]:
    """``ON CONFLICT DO UPDATE`` gets the primary key when it has no target; bare column names
    after ``DO UPDATE SET`` are qualified with the table (outside the assignments' left sides)."""
    out = list(toks)
    for i, tok in enumerate(out):
        if _up(tok) != "CONFLICT":
            continue
        j = _next(out, i)
        if j < len(out) and _up(out[j]) == "DO":
            pk = catalog.primary_keys.get(table or "")
            if pk and _up(out[_next(out, j)]) == "UPDATE":
                out.insert(j, f"({', '.join(pk)}) ")
        break
    else:
        return out
    columns = {c.lower() for c in catalog.columns.get(table or "", [])}
    start = next((k for k, t in enumerate(out) if _up(t) == "SET" and k > i), None)
    if start is None or not columns or table is None:
        return out
    for k in range(start + 1, len(out)):
        tok = out[k]
        if not _is_word(tok) or tok.lower() not in columns:
            continue
        before, after = _prev(out, k), _next(out, k)
        if before >= 0 and out[before] == ".":
            continue  # already qualified (excluded.x, t.x)
        if after < len(out) and out[after] in (".", "("):
            continue  # a qualifier or a function
        if (
            after < len(out)
            and out[after] == "="
            and (before < 0 or out[before] == "," or _up(out[before]) == "SET")
        ):
            continue  # an assignment's target
        out[k] = f"{table}.{tok}"
    return out


def split_statements(script: str) -> list[str]:
    """A migration's statements (split on ``;`` outside literals), blank ones left out."""
    parts: list[str] = []
    current: list[str] = []
    for tok in tokens(script):
        if tok == ";":
            parts.append("".join(current))
            current = []
        else:
            current.append(tok)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]
