"""What a put drops, read at its site and along its reach chain: whether the
reference can be the last one (a reference taken before it, or held by a
caller across the call; an argument the rules know to be held), and whether
the object is one the context waits on (`distinct_objects`, `harmless_when`).

The put's argument and where it came from, and the bodies of the functions on
the chain, are read from the source on demand (`parse.onsite`).
"""

from __future__ import annotations

import re

from . import paths
from .facts import PutArgument
from .graph import CALLBACK, Program, subsystem_of
from .ruleset import Context, Put


class PutObjects:
    """`bodies(function)` gives a function's `sitefacts.FunctionBody` and
    `readers(path)` a file's `parse.onsite.BodyReader` (None when its source
    cannot be read: nothing read at the site then applies); `reads(function)`
    is told of each function whose calls a check looked at (what the context's
    findings depend on)."""

    def __init__(self, program: Program, bodies, readers, reads=lambda function: None):
        self.program = program
        self._body = bodies
        self._reader = readers
        self._reads = reads
        self._arguments: dict[str, dict] = {}

    def may_wait(self, context: Context, put_rule: Put, site, path: str, parent, sites, stats) -> bool:
        """Whether the put at `site` may drop the last reference to an object
        the context waits on; counts why not in `stats`."""
        brackets = ((put_rule.nonfinal_if_preceded_by, put_rule.functions),) + tuple(
            (b.take, b.drop) for b in put_rule.held_across_by
        )
        if self._nonfinal(site, put_rule.nonfinal_if_preceded_by) or any(
            self._held_by_a_caller(parent, site, take, drop) for take, drop in brackets
        ):
            stats.nonfinal += 1
            return False
        needs_argument = (
            put_rule.nonfinal_if_from or put_rule.nonfinal_if_argument or put_rule.harmless_when or context.distinct_objects
        )
        argument = self._argument(path, site, sites) if needs_argument else None
        if argument is None:
            return True
        if argument.origin and argument.origin in {r.function for r in put_rule.nonfinal_if_from}:
            stats.nonfinal += 1
            return False
        passed = self._passed_down(parent, site, argument.argument)
        if any(re.fullmatch(r.argument, text) for r in put_rule.nonfinal_if_argument for text in passed):
            stats.nonfinal += 1
            return False
        body = self._body(site.function) if put_rule.harmless_when or context.distinct_objects else None
        call = body.call_at(site.edge.line, site.edge.col) if body is not None else None
        if call is not None and paths.known_at(
            call,
            body,
            put_rule.harmless_when,
            argument.argument,
            frozenset(put_rule.harmless_unless_after),
            frozenset(put_rule.harmless_unless_null_from),
        ):
            stats.harmless_puts += 1
            return False
        function = self.program.func_name[site.function]
        subsystem = subsystem_of(path)
        for distinct in context.distinct_objects:
            if subsystem in distinct.except_subsystems:
                continue
            if (
                (not distinct.origin or re.fullmatch(distinct.origin, argument.origin))
                and (not distinct.argument or any(re.fullmatch(distinct.argument, text) for text in passed))
                and (not distinct.function or distinct.function == function)
                and (
                    not distinct.condition
                    or (call is not None and paths.known_at(call, body, (distinct,), argument.argument, frozenset()))
                )
            ):
                stats.distinct_objects += 1
                return False
        return True

    def _passed_down(self, parent, site, argument: str) -> list[str]:
        """The put's argument, and what each caller up the chain passed for it
        while it is (or is made from) a parameter; each also spelled out
        through the function's single assignments (`dinode` ->
        `d_inode(req->r_dentry)`)."""
        texts = [argument]
        state = site.state
        current = argument
        while True:
            body = self._body(state[0])
            if body is None:
                break
            spelled = body.spelled_out(current)
            if spelled != current:
                texts.append(spelled)
            index = next((i for i, p in enumerate(body.parameters) if p and body.related(current, p)), None)
            link = parent.get(state)
            if index is None or link is None:
                break
            state, edge = link
            caller = self._body(state[0])
            call = caller.call_at(edge.line, edge.col) if caller is not None and edge.kind != CALLBACK else None
            if call is None or index >= len(call.argument_texts):
                break
            current = call.argument_texts[index]
            texts.append(current)
        return texts

    def _argument(self, path: str, site, sites) -> PutArgument | None:
        """What the put drops and where it came from (see `put_arguments`), None
        when unknown; a file is parsed once, for all its put sites."""
        arguments = self._arguments.get(path)
        if arguments is None:
            reader = self._reader(path)
            positions = sorted(
                {(s.edge.line, s.edge.col) for s in sites if self.program.path_of(s.function) == path}
            )
            arguments = self._arguments[path] = reader.put_arguments(positions) if reader is not None else {}
        return arguments.get((site.edge.line, site.edge.col))

    def _held_by_a_caller(self, parent, site, takers: tuple[str, ...], puts: tuple[str, ...]) -> bool:
        """A function on the reach chain takes a reference on an object before
        the call that leads to the put, passes it to that call, and drops it
        after (`ihold(inode); f(inode); iput(inode);`): the put below is not
        the last. For a callback, the function it was passed to counts as that
        caller when it does the same around a call (`inode = igrab(...)` ...
        `cb(inode, arg)` ... `iput(inode)`). Without sources, any take before
        and put after the call counts."""
        if not takers:
            return False
        state = site.state
        while parent.get(state) is not None:
            state, edge = parent[state]
            if self._brackets(state[0], (edge.line, edge.col), takers, puts):
                return True
            if edge.kind == CALLBACK and any(
                self._brackets(runner, None, takers, puts)
                for runner in self.program.resolve_name(edge.via, self.program.func_file[state[0]])
            ):
                return True
        return False

    def _brackets(self, function: int, position, takers, puts) -> bool:
        """Whether `function` holds a reference across the call at `position`
        (any call, when None)."""
        self._reads(function)
        rows = self.program.calls_of(function)
        taken = [(r[2], r[3]) for r in rows if r[1] in takers and (position is None or (r[2], r[3]) < position)]
        after = position or min(taken, default=None)
        if not taken or not any(r[1] in puts and (r[2], r[3]) > after for r in rows):
            return False  # from the index alone: no need to read the body
        body = self._body(function)
        if body is None:
            return True
        for take in body.calls:
            if take.callee not in takers:
                continue
            held = take.result or (take.argument_texts[0] if take.argument_texts else "")
            start = (take.line, take.col)
            if not held or (position is not None and start >= position):
                continue
            for call in body.calls:
                middle = (call.line, call.col)
                if middle <= start or (position is not None and middle != position):
                    continue
                if call.callee in takers or call.callee in puts:
                    continue
                if not any(body.related(held, passed) for passed in call.argument_texts):
                    continue
                if any(
                    drop.callee in puts
                    and (drop.line, drop.col) > middle
                    and drop.argument_texts
                    and body.related(held, drop.argument_texts[0])
                    for drop in body.calls
                ):
                    return True
        return False

    def _nonfinal(self, site, takers: tuple[str, ...]) -> bool:
        if not takers:
            return False
        return any(
            row[1] in takers and (row[2], row[3]) < (site.edge.line, site.edge.col)
            for row in self.program.calls_of(site.function)
        )
