"""Every instruction of a schedule as one row of numpy columns: the event table and the views' index.

The IR keeps one Python object per instruction, which is what executors want; views want the
opposite: "every play on d0 between 10 and 12 us", "the frame of m1 at this acquisition", one page
of a million rows. :class:`EventTable` turns the objects into columns once (in time order), and
everything else is array arithmetic on them. Strings (names, gate labels, parameters) are stored as
codes into small lists, because a schedule of a million instructions has a handful of distinct
gates; the text of a row is only formatted when a row is shown.

Rows are in the order the builder applied the instructions (by time, then as they were added),
read from the :class:`~workbench.schedule.ir.BuildLog` it keeps on the schedule. A schedule built any
other way (or whose instructions were replaced) is read from its objects instead, ordered by time,
then kind (frame change, play, delay, acquire), then the order within its kind.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from operator import attrgetter
from typing import Any

import numpy as np

from workbench.schedule.ir import BuildLog, Origin, Schedule, channel_sort_key, parse_channel

#: Kind codes of :attr:`EventTable.kind`.
KINDS = ("play", "frame", "delay", "acquire")
PLAY, FRAME, DELAY, ACQUIRE = range(4)
_RANK = np.array([1, 0, 2, 3], dtype=np.int8)  # at one time: frame changes, plays, delays, acquires


@contextmanager
def _no_gc() -> Iterator[None]:
    """Reading a million objects into columns allocates nothing that could form a cycle; a collection
    triggered halfway would only walk the schedule's objects again and again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _column(items: Sequence[Any], name: str, dtype: Any) -> np.ndarray:
    return np.fromiter(map(attrgetter(name), items), dtype=dtype, count=len(items))


def _codes(values: list[Any], table: dict[Any, int]) -> np.ndarray:
    """Values -> int32 codes into ``table`` (value -> code), which grows as new values appear. The
    per-item work is a C-level dict lookup: no Python frame per row."""
    for value in set(values):
        table.setdefault(value, len(table))
    return np.fromiter(map(table.__getitem__, values), dtype=np.int32, count=len(values))


def _by_identity(objects: list[Any], keep: list[Any]) -> np.ndarray:
    """Objects -> codes by identity (shared waveforms, parameter dicts, origins); ``keep`` gets one of each.
    ``objects`` holds them all alive, so no two of them can share an id."""
    if not objects:
        return np.zeros(0, dtype=np.int32)
    ids = np.fromiter(map(id, objects), dtype=np.int64, count=len(objects))
    _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    base = len(keep)
    keep.extend(objects[int(i)] for i in first)
    return (inverse.reshape(-1) + base).astype(np.int32)


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, int | float) for v in value):
        return f"{complex(*value):.4g}"
    return str(value)


def format_parameters(shape: str | None, parameters: Mapping[str, Any]) -> str:
    """``drag(duration=48, amp=0.4768, sigma=12, beta=0.4571)``; ``waveform`` for a library pulse."""
    inner = ", ".join(f"{k}={format_value(v)}" for k, v in parameters.items())
    return f"{shape}({inner})" if shape else "waveform"


def format_frame_value(kind: str, value: float) -> str:
    if kind == "setf":
        return f"{value / 1e9:.9g} GHz"
    if kind == "shiftf":
        return f"{value / 1e6:+.6g} MHz"
    return f"{value:+.4g} rad"


class EventTable:
    """The rows of one schedule, in time order. Build with :func:`event_table` (cached per schedule).

    Eager columns (what figures, filters and checks need, read from the IR in four passes over the
    plays): ``t0``, ``duration``, ``kind``, ``item``, ``channel``, ``origin`` and, for plays, ``wave``
    (the sample array's code into :attr:`waves`; shared arrays share a code). ``item`` is the row's
    index into its kind's tuple of the schedule (``schedule.plays[item]`` for a play), so any row
    leads back to its IR object. Lazy columns, computed on first use: ``frequency``/``phase`` (the
    frame of the row's channel after the row: during it for a play, the measure channel's for an
    acquisition), ``source`` and ``name`` (codes into :attr:`names`).
    """

    def __init__(self, schedule: Schedule, t0: np.ndarray, duration: np.ndarray, kind: np.ndarray,
                 item: np.ndarray, channel: np.ndarray, channels: list[str], origin: np.ndarray,
                 origins: list[Origin], wave: np.ndarray, waves: list[np.ndarray]) -> None:
        self.schedule = schedule
        self.t0 = t0  # int64, samples of dt
        self.duration = duration  # int64, samples (0 for frame changes)
        self.kind = kind  # int8, index into KINDS
        self.item = item  # int64
        self.channel = channel  # int32, index into channels (codes sort like lanes)
        self.channels = channels
        self.origin = origin  # int32 index into origins, -1 for none
        self.origins = origins
        self.wave = wave  # int32 index into waves, -1 for rows that are not plays
        self.waves = waves
        self.t1 = t0 + duration  # int64, end of each row
        self.log: BuildLog | None = None

    def __len__(self) -> int:
        return int(self.t0.shape[0])

    def __repr__(self) -> str:
        return f"<EventTable {self.schedule.name!r}: {len(self)} rows>"

    @property
    def dt_ns(self) -> float:
        return self.schedule.dt * 1e9

    def channel_code(self, name: str) -> int:
        """The code of a channel, -1 when the schedule does not use it."""
        try:
            return self.channels.index(name)
        except ValueError:
            return -1

    def rows_on(self, channel: str, kinds: Sequence[int] | None = None) -> np.ndarray:
        """Row indices of one channel (optionally only some kinds), in time order."""
        mask = self.channel == self.channel_code(channel)
        if kinds is not None:
            mask &= np.isin(self.kind, np.asarray(kinds, dtype=np.int8))
        return np.flatnonzero(mask)

    def objects(self, rows: Sequence[int] | np.ndarray) -> list[Any]:
        """The IR objects of some rows."""
        lists = (self.schedule.plays, self.schedule.frame_changes, self.schedule.delays, self.schedule.acquires)
        return [lists[int(self.kind[r])][int(self.item[r])] for r in rows]

    def _per_kind(self, getter: Any, dtype: Any, fill: Any) -> np.ndarray:
        """A column read from the IR objects, kind by kind (rows of other kinds get ``fill``)."""
        out = np.full(len(self), fill, dtype=dtype)
        lists = (self.schedule.plays, self.schedule.frame_changes, self.schedule.delays, self.schedule.acquires)
        with _no_gc():
            for code, items in enumerate(lists):
                if getter[code] is None or not items:
                    continue
                rows = np.flatnonzero(self.kind == code)
                values = np.fromiter(map(getter[code], items), dtype=dtype, count=len(items))
                out[rows] = values[self.item[rows]]
        return out

    @cached_property
    def source(self) -> np.ndarray:  # not logged by the builder: only tables and exports need it
        """Index of each row's instruction in its job or compiled circuit (int64, -1 when unknown)."""
        get = attrgetter("source")
        return self._per_kind((get, get, get, get), np.int64, -1)

    @cached_property
    def _names(self) -> tuple[np.ndarray, list[str]]:
        table: dict[str, int] = {}
        if self.log is not None:
            return _codes(self.log.name, table), sorted(table, key=table.__getitem__)
        out = np.zeros(len(self), dtype=np.int32)
        lists = (self.schedule.plays, self.schedule.frame_changes)
        for code, items in enumerate(lists):
            if items:
                rows = np.flatnonzero(self.kind == code)
                attribute = "name" if code == PLAY else "kind"
                out[rows] = _codes(list(map(attrgetter(attribute), items)), table)[self.item[rows]]
        for code, word in ((DELAY, "delay"), (ACQUIRE, "acquire")):
            rows = self.kind == code
            if rows.any():
                out[rows] = table.setdefault(word, len(table))
        return out, sorted(table, key=table.__getitem__)

    @property
    def name(self) -> np.ndarray:
        """Codes into :attr:`names`: the play's name, the frame change's kind, ``delay``, ``acquire``."""
        return self._names[0]

    @property
    def names(self) -> list[str]:
        return self._names[1]

    @cached_property
    def _frames(self) -> tuple[np.ndarray, np.ndarray]:
        if self.log is not None:
            frequency = np.frombuffer(self.log.frequency, dtype=np.float64).copy()
            phase = np.frombuffer(self.log.phase, dtype=np.float64).copy()
        else:
            get_f, get_p = attrgetter("frequency"), attrgetter("phase")
            frequency = self._per_kind((get_f, get_f, None, None), np.float64, np.nan)
            phase = self._per_kind((get_p, get_p, None, None), np.float64, np.nan)
        _fill_frames(self, frequency, phase)
        return frequency, phase

    @property
    def frequency(self) -> np.ndarray:
        """Frame frequency (Hz) of each row's channel after the row."""
        return self._frames[0]

    @property
    def phase(self) -> np.ndarray:
        """Frame phase (rad, as set by setp/shiftp) of each row's channel after the row."""
        return self._frames[1]

    def name_of(self, row: int) -> str:
        """One row's name, without building the whole :attr:`name` column."""
        if "_names" in self.__dict__:
            return self.names[int(self.name[row])]
        if self.log is not None:  # the log is in row order
            return self.log.name[int(row)]
        obj = self.objects([row])[0]
        kind = int(self.kind[row])
        return obj.name if kind == PLAY else obj.kind if kind == FRAME else KINDS[kind]

    def source_of(self, row: int) -> int:
        """One row's source index, without building the whole :attr:`source` column."""
        if "source" in self.__dict__:
            return int(self.source[row])
        return int(self.objects([row])[0].source)

    def gate_label(self, row: int) -> str:
        code = int(self.origin[row])
        return self.origins[code].label if code >= 0 else ""

    def parameters_text(self, row: int) -> str:
        """What a person needs to recognise the instruction: pulse parameters, frame value, slot."""
        kind = int(self.kind[row])
        obj = self.objects([row])[0]
        if kind == PLAY:
            return format_parameters(obj.shape, obj.parameters)
        if kind == FRAME:
            return format_frame_value(obj.kind, obj.value)
        if kind == ACQUIRE:
            register = f", register {obj.register_slot}" if obj.register_slot is not None else ""
            return f"q{obj.qubit} -> slot {obj.memory_slot}{register}"
        return ""


def event_table(schedule: Schedule) -> EventTable:
    """The schedule's :class:`EventTable` (computed once per schedule object and kept on it): from the
    builder's log when there is one (array conversions only), else from the IR objects."""
    cached = schedule.__dict__.get("_event_table")
    if cached is not None:
        return cached
    log = schedule.build_log
    with _no_gc():
        table = _from_log(schedule, log) if log is not None and log.describes(schedule) else _build(schedule)
    object.__setattr__(schedule, "_event_table", table)  # a cache on a frozen object, as cached_property does
    return table


def _build(schedule: Schedule) -> EventTable:
    channel_codes: dict[str, int] = {}
    origins: list[Origin] = []
    waves: list[np.ndarray] = []
    plays, changes, delays, acquires = schedule.plays, schedule.frame_changes, schedule.delays, schedule.acquires
    wave = _by_identity(list(map(attrgetter("samples"), plays)), waves)
    lengths = np.fromiter((w.shape[0] for w in waves), dtype=np.int64, count=len(waves))
    columns = [
        (_column(plays, "t0", np.int64), lengths[wave] if plays else np.zeros(0, np.int64),
         _codes(list(map(attrgetter("channel"), plays)), channel_codes)),
        (_column(changes, "t0", np.int64), np.zeros(len(changes), np.int64),
         _codes(list(map(attrgetter("channel"), changes)), channel_codes)),
        (_column(delays, "t0", np.int64), _column(delays, "duration", np.int64),
         _codes(list(map(attrgetter("channel"), delays)), channel_codes)),
        (_column(acquires, "t0", np.int64), _column(acquires, "duration", np.int64),
         _codes([f"a{q}" for q in map(attrgetter("qubit"), acquires)], channel_codes)),
    ]
    sizes = [len(plays), len(changes), len(delays), len(acquires)]
    origin = np.concatenate([_origin_codes(items, origins) for items in (plays, changes, delays, acquires)])
    kind = np.repeat(np.arange(4, dtype=np.int8), sizes)
    item = np.concatenate([np.arange(size, dtype=np.int64) for size in sizes])
    t0 = np.concatenate([c[0] for c in columns])
    order = np.lexsort((item, _RANK[kind], t0))
    # channel codes in lane order, so that a code sorts like its channel
    by_code = sorted(channel_codes, key=channel_codes.__getitem__)
    lanes = sorted(by_code, key=channel_sort_key)
    recode = np.array([lanes.index(c) for c in by_code] or [0], dtype=np.int32)
    channel = recode[np.concatenate([c[2] for c in columns])]
    wave_column = np.concatenate([wave, np.full(sum(sizes[1:]), -1, dtype=np.int32)])
    return EventTable(schedule, t0[order], np.concatenate([c[1] for c in columns])[order], kind[order],
                      item[order], channel[order], lanes, origin[order], origins, wave_column[order], waves)


def _from_log(schedule: Schedule, log: BuildLog) -> EventTable:
    """Rows in the builder's own order (the order the instructions apply, hence by time): the log's
    buffers read in place, channel codes renumbered into lane order, item numbers counted per kind."""
    n = len(log.t0)
    t0 = np.frombuffer(log.t0, dtype=np.int64) if n else np.zeros(0, np.int64)
    kind = np.frombuffer(log.kind, dtype=np.int8) if n else np.zeros(0, np.int8)
    lanes = sorted(log.channels, key=channel_sort_key)
    recode = np.array([lanes.index(c) for c in log.channels] or [0], dtype=np.int32)
    channel = recode[np.frombuffer(log.channel, dtype=np.int32)] if n else np.zeros(0, np.int32)
    item = np.zeros(n, dtype=np.int64)
    for code in range(4):
        rows = np.flatnonzero(kind == code)
        item[rows] = np.arange(rows.size)
    origin = np.frombuffer(log.origin, dtype=np.int32) if n else np.zeros(0, np.int32)
    wave = np.frombuffer(log.wave, dtype=np.int32) if n else np.zeros(0, np.int32)
    table = EventTable(schedule, t0, (np.frombuffer(log.end, dtype=np.int64) - t0) if n else t0.copy(), kind, item,
                       channel, lanes, origin, list(log.origins), wave, list(log.waves))
    table.log = log  # the lazy columns read it instead of the objects
    return table


def _origin_codes(items: Sequence[Any], keep: list[Origin]) -> np.ndarray:
    return _origin_codes_of(list(map(attrgetter("origin"), items)), keep)


def _origin_codes_of(objects: list[Any], keep: list[Origin]) -> np.ndarray:
    """Origins are interned, so identity is the cheap and right key; None -> -1."""
    found: list[Any] = []
    codes = _by_identity(objects, found)
    if None in found:  # no origin: code -1, and the codes after it move down by one
        none = found.index(None)
        codes = np.where(codes == none, -1, codes - (codes > none))
        found.pop(none)
    base = len(keep)
    keep.extend(found)
    return np.where(codes >= 0, codes + base, -1).astype(np.int32)


def _fill_frames(table: EventTable, frequency: np.ndarray, phase: np.ndarray) -> None:
    """The frame after each delay and acquisition: the last play or frame change on the channel (the
    measure channel for an acquisition) at or before it, else the schedule's initial frame."""
    schedule = table.schedule
    needs = np.flatnonzero(np.isnan(frequency))
    if needs.size == 0:
        return
    defines = (table.kind == PLAY) | (table.kind == FRAME)
    for code, name in enumerate(table.channels):
        kind, index = parse_channel(name)
        rows = needs[table.channel[needs] == code]
        if rows.size == 0:
            continue
        frame_channel = f"m{index}" if kind == "a" else name
        initial = schedule.initial_frames.get(frame_channel, (math.nan, math.nan))
        source_code = table.channel_code(frame_channel)
        known = np.flatnonzero(defines & (table.channel == source_code)) if source_code >= 0 else np.zeros(0, int)
        at = np.searchsorted(table.t0[known], table.t0[rows], side="right") - 1
        has = at >= 0
        pick = known[np.maximum(at, 0)] if known.size else None
        frequency[rows] = np.where(has, frequency[pick], initial[0]) if pick is not None else initial[0]
        phase[rows] = np.where(has, phase[pick], initial[1]) if pick is not None else initial[1]
