"""A watchlist's YAML, composed into a node tree with line marks, safely and never too deep.

Composing (not constructing) with a ``SafeLoader`` subclass: no object is ever built by an
unsafe loader; libyaml composes when PyYAML has it (:data:`FastLoader`), and the pure-Python
loader describes problems with their lines. Nesting deeper than :data:`MAX_DEPTH` is refused
whichever loader reads the file, and so are chains of merge keys that deep.
"""

from __future__ import annotations

import yaml

from ..errors import Problem, WatchlistError

__all__ = ["MAX_DEPTH", "FastLoader", "LineLoader", "compose", "decode"]

#: Lists and mappings nested deeper than this are refused, whichever loader reads the file: a watchlist
#: needs 4 levels (the top, `targets`, a target, its `tags`), and composing is recursive (the pure-Python
#: loader dies of RecursionError near 1,000 levels, where libyaml gives up).
MAX_DEPTH = 100
_TOO_DEEP = (f"lists and mappings nested more than {MAX_DEPTH} levels deep (a watchlist needs 4: the top, "
             f"'targets', a target, its 'tags'); flatten them")


class _TooDeep(yaml.MarkedYAMLError):
    """A collection nested deeper than :data:`MAX_DEPTH`, found while composing."""


class LineLoader(yaml.SafeLoader):
    """SafeLoader used only to compose the node tree (which carries line marks) and build scalars.

    It counts nesting while it composes and stops at :data:`MAX_DEPTH` levels, before its recursion
    can exhaust Python's stack.
    """

    _depth = 0

    def compose_sequence_node(self, anchor):
        return self._nested(super().compose_sequence_node, anchor)

    def compose_mapping_node(self, anchor):
        return self._nested(super().compose_mapping_node, anchor)

    def _nested(self, compose, anchor):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep(problem=_TOO_DEEP, problem_mark=self.peek_event().start_mark)
            return compose(anchor)
        finally:
            self._depth -= 1


#: libyaml's loader composes the same node tree (with marks) about ten times
#: faster; errors are re-composed with :class:`LineLoader` for its clearer messages.
FastLoader = getattr(yaml, "CSafeLoader", None)


_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_NULL_TAG = "tag:yaml.org,2002:null"
_STR_TAG = "tag:yaml.org,2002:str"


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _too_deep(root: yaml.Node | None) -> yaml.Node | None:
    """The first collection (in document order) nested deeper than :data:`MAX_DEPTH`, or None.

    For trees composed by libyaml (which allows 1,000 levels), so that both loaders refuse the same
    files. Iterative; a node reached again through an alias is not walked twice.
    """
    collection, sequence = yaml.CollectionNode, yaml.SequenceNode
    if not isinstance(root, collection):
        return None
    # two flat stacks and a set of ints: no container allocated per node, so the walk does not set off
    # the garbage collections that would traverse the whole fresh tree
    nodes, depths, seen = [root], [1], set()
    while nodes:
        node, depth = nodes.pop(), depths.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if depth > MAX_DEPTH:
            return node
        depth += 1
        children, pairs = node.value, not isinstance(node, sequence)
        for i in range(len(children) - 1, -1, -1):  # pushed last to first: popped in document order
            for child in (children[i][1], children[i][0]) if pairs else (children[i],):
                if isinstance(child, collection):
                    nodes.append(child)
                    depths.append(depth)
    return None


def _merge_too_deep(node: yaml.MappingNode) -> bool:
    """Do the merge keys (``<<: *a``) of ``node`` chain more than :data:`MAX_DEPTH` mappings deep?

    PyYAML flattens merges recursively, each mapping's once (it deletes their merge keys as it goes):
    this walks the same mappings in the same order, iteratively, to refuse a chain its recursion would
    not survive.
    """
    stack, seen = [(node, 1)], set()
    while stack:
        mapping, depth = stack.pop()
        if id(mapping) in seen:
            continue
        seen.add(id(mapping))
        if depth > MAX_DEPTH:
            return True
        merged: list[yaml.Node] = []
        for key_node, value_node in mapping.value:
            if key_node.tag == _MERGE_TAG:
                merged.extend(value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node])
        stack.extend((m, depth + 1) for m in reversed(merged) if isinstance(m, yaml.MappingNode))
    return False


def decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise WatchlistError(path, [Problem(line, None, f"not valid UTF-8 (byte {exc.start}); "
                                                        f"save the file with UTF-8 encoding")]) from None


def compose(text: str, path: str) -> tuple[yaml.SafeLoader, yaml.Node | None]:
    if FastLoader is not None:
        fast = FastLoader(text)
        try:
            root = fast.get_single_node()
        except yaml.YAMLError:
            fast.dispose()  # a problem: let the pure-Python loader describe it
        else:
            deep = _too_deep(root)
            if deep is None:
                return fast, root
            raise WatchlistError(path, [Problem(_line(deep), None, _TOO_DEEP)])
    loader = None
    try:
        loader = LineLoader(text)  # the reader rejects unprintable characters here
        return loader, loader.get_single_node()
    except _TooDeep as exc:
        problem = Problem(exc.problem_mark.line + 1, None, _TOO_DEEP)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = ": ".join(part for part in (exc.context, exc.problem) if part) or str(exc)
        if "'\\t'" in reason:
            reason += "; indent with spaces, not tabs"
        elif "single document" in reason:
            reason += "; remove the '---' separator: a watchlist is one YAML document"
        problem = Problem(mark.line + 1 if mark else None, None, f"malformed YAML: {reason}")
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
        problem = Problem(line, None, f"malformed YAML: character U+{ord(char[:1] or ' '):04X} is not allowed "
                                      f"in YAML; remove it")
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error above carries a mark
        problem = Problem(None, None, f"malformed YAML: {exc}")
    finally:
        if loader is not None:
            loader.dispose()  # parsing is over; the loader still builds scalars
    raise WatchlistError(path, [problem])
