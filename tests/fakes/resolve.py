"""An in-memory DaVinci Resolve that behaves as docs/resolve-quirks.md says, quirks included.

Each quirk is implemented where the real API shows it and tagged `QUIRK n` with its number in
docs/resolve-quirks.md, so a reader can check the double against the notes:

- every failure is None / False / [] and never an exception (12); `hasattr` is True for every
  name, a missing method returns None when called, `dir()` lists only real methods (11);
- ImportMedia lands in the current folder only (1);
- AppendToTimeline takes clipInfos with an exclusive endFrame and an absolute recordFrame (2, 20),
  drops a placement that overlaps an item on its track without a word (3), returns a phantom
  item with an empty unique id for it (4), lands a mixed-rate source a frame short (5);
- Timeline.DeleteClips fails unless the Edit page is open (6);
- GetSourceStartFrame is a frame off for trimmed items; GetLeftOffset is exact (17);
- ReplaceClip wipes the pool item's metadata (7);
- generators and titles have no MediaPoolItem; SetClipColor on them returns True and does not
  stick (8); SetClipColor refuses names outside the 16 (9);
- SaveProject on the never-saved "Untitled Project" fails (14);
- export constants come from the live object; a string in their place is refused (19);
- the project frame rate cannot be set once timelines exist; playback rate never (21, table);
- ExportCurrentFrameAsStill works on the Edit or Color page only (23);
- take selectors (24): AddTake initializes a selector whose take 1 is the item
  as it was, takes are 1-based, GetTakesCount / GetSelectedTakeIndex are 0 on a plain item, the
  item shows (and lasts) the selected take, and a take at another rate lands a frame short as an
  append does (5); FinalizeTake keeps the selected take as a plain item;
- while a modal dialog is up (`_modal_open`, e.g. after a Studio-only call on the free edition,
  13) page changes and deletes fail.

Media is real: ImportMedia probes each file with PyAV for its rate, size and frame count, and
refuses what is not media, as Resolve does.

Test helpers (not Resolve API) start with an underscore or live on `FakeResolve.faults`.
"""

from __future__ import annotations

import itertools
import math
import os
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

CLIP_COLORS = (
    "Orange",
    "Apricot",
    "Yellow",
    "Lime",
    "Olive",
    "Green",
    "Teal",
    "Navy",
    "Blue",
    "Purple",
    "Violet",
    "Pink",
    "Tan",
    "Beige",
    "Brown",
    "Chocolate",
)
MARKER_COLORS = (
    "Blue",
    "Cyan",
    "Green",
    "Yellow",
    "Red",
    "Pink",
    "Purple",
    "Fuchsia",
    "Rose",
    "Lavender",
    "Sky",
    "Mint",
    "Lemon",
    "Sand",
    "Cocoa",
    "Cream",
)
PAGES = ("media", "cut", "edit", "fusion", "color", "fairlight", "deliver")
_RATE_LABELS = {
    Fraction(24000, 1001): "23.976",
    Fraction(30000, 1001): "29.97",
    Fraction(60000, 1001): "59.94",
    Fraction(48000, 1001): "47.952",
}
_ids = itertools.count(1)


def _uid(prefix: str) -> str:
    return f"{prefix}-{next(_ids):06d}"


def _rate_from_setting(text: str) -> Fraction:
    text = text.replace("DF", "").strip()
    for rate, label in _RATE_LABELS.items():
        if label == text:
            return rate
    return Fraction(text)


class Calls:
    """Scripting calls made on the double from outside it: every method call on any Resolve object is one
    round trip to Resolve (external scripting, or the bridge's thread inside it). The double's own calls
    to its API methods (one object asking another) are not counted."""

    def __init__(self):
        self.total = 0
        self.by_name: dict[str, int] = {}

    def reset(self) -> None:
        self.total = 0
        self.by_name.clear()

    def count(self, name: str) -> None:
        self.total += 1
        self.by_name[name] = self.by_name.get(name, 0) + 1


CALLS = Calls()


def _counted(name: str, method):
    def call(*a, **k):
        if sys._getframe(1).f_globals.get("__name__") != __name__:
            CALLS.count(name)
        return method(*a, **k)

    return call


class _ResolveObject:
    """QUIRK 11: `hasattr` is True for every name; a missing method returns None when called.
    Every API method (a name starting with a capital) is counted in `CALLS` when called from outside."""

    def __getattribute__(self, name: str):
        value = object.__getattribute__(self, name)
        if name[:1].isupper() and callable(value) and not isinstance(value, type):
            return _counted(name, value)
        return value

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return _counted(name, lambda *a, **k: None)

    def __dir__(self):
        return [n for n in type(self).__dict__ if n[:1].isupper()] + [
            n for c in type(self).__mro__[1:] for n in c.__dict__ if n[:1].isupper()
        ]


def _marker_api(markers: dict[float, dict], frame, color, name, note, duration, customData=""):
    if color not in MARKER_COLORS or frame in markers or duration < 1:
        return False
    markers[float(frame)] = {
        "color": color,
        "duration": float(duration),
        "note": note,
        "name": name,
        "customData": customData or "",
    }
    return True


class MediaPoolItem(_ResolveObject):
    def __init__(self, path: Path, rate: Fraction, width: int, height: int, frames: int):
        self._id = _uid("mpi")
        self._media_id = _uid("media")
        self._path = Path(path)
        self._rate, self._width, self._height, self._frames = rate, width, height, frames
        self._name = self._path.name
        self._metadata: dict[str, str] = {}
        self._third_party: dict[str, str] = {}
        self._color = ""
        self._markers: dict[float, dict] = {}
        self._folder: Folder | None = None

    def GetName(self):
        return self._name

    def SetName(self, name):
        self._name = str(name)
        return True

    def GetUniqueId(self):
        return self._id

    def GetMediaId(self):
        return self._media_id

    def GetClipProperty(self, propertyName=None):
        # QUIRK 10: clip properties are strings (FPS has been seen as a number: keep it a string here,
        # the gateway accepts both).
        props = {
            "File Path": str(self._path),
            "File Name": self._path.name,
            "Clip Name": self._name,
            "FPS": _RATE_LABELS.get(self._rate, str(self._rate)),
            "Resolution": f"{self._width}x{self._height}",
            "Frames": str(self._frames),
            "Bit Depth": "10",
            "PAR": "Square",
            "Type": "Video",
            "Clip Color": self._color,
            "Start": "0",
            "End": str(self._frames - 1),
        }
        if propertyName is None:
            return props
        return props.get(propertyName, "")

    def SetClipProperty(self, propertyName, propertyValue):
        # Only the clip name is writable here (the keys promptreel sets); anything else is refused.
        if propertyName == "Clip Name" and isinstance(propertyValue, str) and propertyValue:
            self._name = propertyValue
            return True
        return False

    def GetMetadata(self, metadataType=None):
        return _read(self._metadata, metadataType)

    def SetMetadata(self, metadataType, metadataValue=None):
        return _write(self._metadata, metadataType, metadataValue)

    def GetThirdPartyMetadata(self, metadataType=None):
        return _read(self._third_party, metadataType)

    def SetThirdPartyMetadata(self, metadataType, metadataValue=None):
        return _write(self._third_party, metadataType, metadataValue)

    def GetClipColor(self):
        return self._color

    def SetClipColor(self, colorName):
        if colorName not in CLIP_COLORS:  # QUIRK 9
            return False
        self._color = colorName
        return True

    def ClearClipColor(self):
        self._color = ""
        return True

    def AddMarker(self, frameId, color, name, note, duration, customData=None):
        return _marker_api(self._markers, frameId, color, name, note, duration, customData)

    def GetMarkers(self):
        return {k: dict(v) for k, v in self._markers.items()}

    def ReplaceClip(self, filePath):
        probed = _probe(Path(filePath))
        if probed is None:
            return False
        self._path = Path(filePath)
        self._rate, self._width, self._height, self._frames = probed
        # QUIRK 7: ReplaceClip wipes the item's metadata.
        self._metadata.clear()
        self._third_party.clear()
        return True


class Folder(_ResolveObject):
    def __init__(self, name: str, parent: Folder | None = None):
        self._id = _uid("folder")
        self._name = name
        self._parent = parent
        self._clips: list[MediaPoolItem] = []
        self._subfolders: list[Folder] = []

    def GetName(self):
        return self._name

    def GetUniqueId(self):
        return self._id

    def GetClipList(self):
        return list(self._clips)

    def GetSubFolderList(self):
        return list(self._subfolders)

    def GetIsFolderStale(self):
        return False


class TimelineItem(_ResolveObject):
    def __init__(
        self,
        timeline: Timeline,
        track: int,
        start: int,
        duration: int,
        name: str,
        mpi: MediaPoolItem | None = None,
        left_offset: int = 0,
        kind: str = "video",
    ):
        self._id = _uid("item")
        self._timeline = timeline
        self._track = track
        self._start, self._duration = start, duration
        self._name = name
        self._mpi = mpi
        self._left = left_offset
        self._kind = kind  # "video", "generator", "title", "transition"
        self._enabled = True
        self._color = ""
        self._markers: dict[float, dict] = {}
        self._properties: dict[str, Any] = (
            {} if kind == "transition" else {"ZoomX": 1.0, "ZoomY": 1.0, "Pan": 0.0, "Tilt": 0.0, "Scaling": 0}
        )
        # A take selector's takes: (pool item, source start, record frames it lasts); empty for a plain item.
        self._takes: list[tuple[MediaPoolItem, int, int]] = []
        self._selected = 0

    def GetName(self):
        return self._name

    def SetName(self, name):
        self._name = str(name)
        return True

    def GetUniqueId(self):
        return self._id

    def GetStart(self, subframe_precision=False):
        return self._start

    def GetEnd(self, subframe_precision=False):
        return self._start + self._duration  # exclusive

    def GetDuration(self, subframe_precision=False):
        return self._duration

    def GetLeftOffset(self, subframe_precision=False):
        return self._left

    def GetRightOffset(self, subframe_precision=False):
        if self._mpi is None:
            return 0
        return max(0, self._mpi._frames - self._left - self._duration)

    def GetSourceStartFrame(self):
        return self._left + 1 if self._left else 0  # QUIRK 17: sometimes a frame off; GetLeftOffset is exact

    def GetSourceEndFrame(self):
        return self._left + self._duration

    def GetMediaPoolItem(self):
        return self._mpi  # None for generators, titles, transitions (QUIRK 8)

    def GetTrackTypeAndIndex(self):
        return ["video", self._track]

    def GetClipEnabled(self):
        return self._enabled

    def SetClipEnabled(self, clipEnabled):
        if self._timeline._locked.get(self._track):
            return False
        self._enabled = bool(clipEnabled)
        return True

    def GetClipColor(self):
        return self._color

    def SetClipColor(self, colorName):
        if colorName not in CLIP_COLORS:  # QUIRK 9
            return False
        if self._kind in ("generator", "title"):
            return True  # QUIRK 8: returns True, does not stick
        self._color = colorName
        return True

    def ClearClipColor(self):
        self._color = ""
        return True

    def AddMarker(self, frameId, color, name, note, duration, customData=None):
        return _marker_api(self._markers, frameId, color, name, note, duration, customData)

    def GetMarkers(self):
        return {k: dict(v) for k, v in self._markers.items()}

    def DeleteMarkerAtFrame(self, frameNum):
        return self._markers.pop(float(frameNum), None) is not None

    # -- takes (1-based; 0 means "not a take selector")
    def AddTake(self, mediaPoolItem, startFrame=None, endFrame=None):
        if not isinstance(mediaPoolItem, MediaPoolItem) or self._mpi is None or self._timeline._locked.get(self._track):
            return False
        if self._timeline._project._resolve.faults.get("refuse_add_take"):
            return False
        start = 0 if startFrame is None else int(startFrame)
        end = mediaPoolItem._frames if endFrame is None else int(endFrame)  # the full clip by default
        if not 0 <= start < end <= mediaPoolItem._frames:
            return False
        frames = end - start
        tl_rate = self._timeline._rate()
        if mediaPoolItem._rate != tl_rate:  # QUIRK 5, as AppendToTimeline: the converted extent is floored
            frames = math.ceil(Fraction(frames) * tl_rate / mediaPoolItem._rate) - 1
        if not self._takes:  # initialize the selector with the item as it is
            self._takes.append((self._mpi, self._left, self._duration))
            self._selected = 1
        self._takes.append((mediaPoolItem, start, frames))
        return True

    def GetTakesCount(self):
        return len(self._takes)

    def GetSelectedTakeIndex(self):
        return self._selected

    def GetTakeByIndex(self, idx):
        if not 1 <= idx <= len(self._takes):
            return None
        mpi, start, frames = self._takes[idx - 1]
        return {"startFrame": start, "endFrame": start + frames, "mediaPoolItem": mpi}

    def SelectTakeByIndex(self, idx):
        if not 1 <= idx <= len(self._takes):
            return False
        self._selected = idx
        self._mpi, self._left, self._duration = self._takes[idx - 1]
        return True

    def DeleteTakeByIndex(self, idx):
        if not 1 <= idx <= len(self._takes) or len(self._takes) == 1:
            return False  # a selector always shows a take
        del self._takes[idx - 1]
        if idx < self._selected or self._selected > len(self._takes):
            self._selected -= 1
        self._mpi, self._left, self._duration = self._takes[self._selected - 1]
        return True

    def FinalizeTake(self):
        if not self._takes:
            return False
        self._takes, self._selected = [], 0  # the selected take stays, as a plain item
        return True

    def GetProperty(self, propertyKey=None):
        if propertyKey is None:
            return dict(self._properties)  # empty for transitions (how they are told apart on <= 21.0)
        return self._properties.get(propertyKey)

    def SetProperty(self, propertyKey, propertyValue):
        if propertyKey not in self._properties:
            return False
        self._properties[propertyKey] = propertyValue
        return True


class Timeline(_ResolveObject):
    def __init__(self, project: Project, name: str, start_frame: int):
        self._id = _uid("timeline")
        self._project = project
        self._name = name
        self._start = start_frame
        self._tracks: dict[int, list[TimelineItem]] = {1: []}
        self._locked: dict[int, bool] = {}
        self._names: dict[int, str] = {}  # set by SetTrackName; "Video N" otherwise
        self._settings: dict[str, str] = {"useCustomSettings": "0"}
        self._markers: dict[float, dict] = {}
        self._playhead = start_frame

    # -- identity and extent
    def GetName(self):
        return self._name

    def SetName(self, timelineName):
        self._name = timelineName
        return True

    def GetUniqueId(self):
        return self._id

    def GetStartFrame(self):
        return self._start

    def GetEndFrame(self):
        ends = [it.GetEnd() for items in self._tracks.values() for it in items]
        return max(ends, default=self._start)

    def GetStartTimecode(self):
        return self._timecode(self._start)

    def _rate(self) -> Fraction:
        return _rate_from_setting(self.GetSetting("timelineFrameRate"))

    def _timecode(self, frame: int) -> str:
        fps = math.ceil(self._rate())
        return f"{frame // (fps * 3600):02d}:{frame // (fps * 60) % 60:02d}:{frame // fps % 60:02d}:{frame % fps:02d}"

    # -- settings: a timeline reads the project's unless it uses custom settings
    def GetSetting(self, settingName=None):
        if settingName is None:
            merged = self._project.GetSetting()
            if self._settings.get("useCustomSettings") == "1":
                merged.update(self._settings)
            return merged
        if settingName == "useCustomSettings":
            return self._settings["useCustomSettings"]
        if self._settings.get("useCustomSettings") == "1" and settingName in self._settings:
            return self._settings[settingName]
        return self._project.GetSetting(settingName)

    def SetSetting(self, settingName, settingValue):
        if settingName == "useCustomSettings":
            self._settings[settingName] = str(settingValue)
            return True
        if self._settings.get("useCustomSettings") != "1" or settingName not in self._project._settings:
            return False
        if settingName == "timelineFrameRate" and any(self._tracks.values()):
            return False  # per-timeline rate only on an empty timeline
        self._settings[settingName] = str(settingValue)
        return True

    # -- tracks
    def GetTrackCount(self, trackType):
        return len(self._tracks) if trackType == "video" else 0

    def AddTrack(self, trackType, subTrackType=None):
        if trackType != "video":
            return False
        self._tracks[len(self._tracks) + 1] = []
        return True  # Bool, not an index

    def GetItemListInTrack(self, trackType, index):
        if trackType != "video" or index not in self._tracks:
            return None
        return sorted(self._tracks[index], key=lambda it: it._start)

    def SetTrackLock(self, trackType, trackIndex, lock):
        if trackType != "video" or trackIndex not in self._tracks:
            return False
        self._locked[trackIndex] = bool(lock)
        return True

    def GetIsTrackLocked(self, trackType, trackIndex):
        return bool(self._locked.get(trackIndex))

    def GetIsTrackEnabled(self, trackType, trackIndex):
        return trackIndex in self._tracks

    def GetTrackName(self, trackType, trackIndex):
        if trackType != "video" or trackIndex not in self._tracks:
            return ""
        return self._names.get(trackIndex, f"Video {trackIndex}")

    def SetTrackName(self, trackType, trackIndex, name):
        if trackType != "video" or trackIndex not in self._tracks or not name:
            return False
        self._names[trackIndex] = str(name)
        return True

    def DeleteTrack(self, trackType, trackIndex):
        # Deletes the track and what is on it; the tracks above move down one (their names go with them).
        if (
            trackType != "video"
            or trackIndex not in self._tracks
            or len(self._tracks) == 1
            or self._project._resolve._modal()
        ):
            return False
        top = len(self._tracks)
        for index in range(trackIndex, top):
            self._tracks[index] = self._tracks[index + 1]
            for it in self._tracks[index]:
                it._track = index
            for table in (self._locked, self._names):
                if index + 1 in table:
                    table[index] = table.pop(index + 1)
                else:
                    table.pop(index, None)
        del self._tracks[top]
        self._locked.pop(top, None)
        self._names.pop(top, None)
        return True

    # -- items
    def DeleteClips(self, timelineItems, ripple=False):
        # QUIRK 6: fails and deletes nothing unless the Edit page is open.
        if self._project._resolve._page != "edit" or self._project._resolve._modal():
            return False
        ids = {it._id for it in timelineItems}
        found = [it for items in self._tracks.values() for it in items if it._id in ids]
        if len(found) != len(ids) or any(self._locked.get(it._track) for it in found):
            return False
        for it in found:
            self._tracks[it._track].remove(it)
        return True

    def AddMarker(self, frameId, color, name, note, duration, customData=None):
        return _marker_api(self._markers, frameId, color, name, note, duration, customData)

    def GetMarkers(self):
        return {k: dict(v) for k, v in self._markers.items()}

    # -- playhead
    def GetCurrentTimecode(self):
        return self._timecode(self._playhead)

    def SetCurrentTimecode(self, timecode):
        if self._project._resolve._page not in ("cut", "edit", "color", "fairlight", "deliver"):
            return False
        try:
            hh, mm, ss, ff = (int(p) for p in timecode.replace(";", ":").split(":"))
        except (AttributeError, ValueError):
            return False
        fps = math.ceil(self._rate())
        self._playhead = ((hh * 60 + mm) * 60 + ss) * fps + ff
        return True

    def GetCurrentVideoItem(self):
        for index in sorted(self._tracks, reverse=True):
            for it in self._tracks[index]:
                if it._start <= self._playhead < it.GetEnd():
                    return it
        return None

    def InsertGeneratorIntoTimeline(self, generatorName):
        # QUIRK 8: no track argument; lands on V1 at the playhead; fails when V1 is locked.
        return self._insert_at_playhead(generatorName, "generator")

    def InsertTitleIntoTimeline(self, titleName):
        return self._insert_at_playhead(titleName, "title")

    def _insert_at_playhead(self, name: str, kind: str):
        if self._locked.get(1):
            return None
        return self._add(1, self._playhead, 5 * math.ceil(self._rate()), name, kind=kind)

    def Export(self, fileName, exportType, exportSubtype):
        # QUIRK 19: constants must be the live object's; strings are silently refused.
        resolve = self._project._resolve
        if exportType is not resolve.EXPORT_OTIO or exportSubtype is not resolve.EXPORT_NONE:
            return False
        import opentimelineio as otio

        # Shaped as Resolve writes it (docs/resolve-quirks.md #15): Resolve_OTIO metadata on timeline, tracks
        # and clips, the start timecode as global_start_time, plain OS paths, marker notes in Resolve_OTIO.
        rate = float(self._rate())

        def rt(value):
            return otio.opentime.RationalTime(value, rate)

        tl = otio.schema.Timeline(
            name=self._name,
            global_start_time=rt(self._start),
            metadata={"Resolve_OTIO": {"Resolve OTIO Meta Version": "1.0"}},
        )
        for index in sorted(self._tracks):
            track = otio.schema.Track(
                name=self.GetTrackName("video", index),
                kind=otio.schema.TrackKind.Video,
                metadata={"Resolve_OTIO": {"Locked": bool(self._locked.get(index))}},
            )
            pos = self._start
            for it in sorted(self._tracks[index], key=lambda i: i._start):
                if it._kind == "transition":
                    continue
                if it._start > pos:
                    track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(rt(0), rt(it._start - pos))))
                if it._mpi:
                    mpi = it._mpi
                    ref = otio.schema.ExternalReference(
                        target_url=str(mpi._path),
                        available_range=(
                            otio.opentime.TimeRange(
                                otio.opentime.RationalTime(0, float(mpi._rate)),
                                otio.opentime.RationalTime(mpi._frames, float(mpi._rate)),
                            )
                        ),
                    )
                else:
                    ref = otio.schema.GeneratorReference(generator_kind=it._name)
                clip = otio.schema.Clip(
                    name=it._name,
                    media_reference=ref,
                    metadata={"Resolve_OTIO": {}},
                    source_range=otio.opentime.TimeRange(rt(it._left), rt(it._duration)),
                )
                clip.enabled = it._enabled
                for frame, m in sorted(it._markers.items()):
                    clip.markers.append(
                        otio.schema.Marker(
                            name=m["name"],
                            color=m["color"].upper(),
                            marked_range=otio.opentime.TimeRange(rt(it._left + frame), rt(m["duration"])),
                            metadata={"Resolve_OTIO": {"Keywords": [], "Note": m["note"]}},
                        )
                    )
                track.append(clip)
                pos = it.GetEnd()
            tl.tracks.append(track)
        otio.adapters.write_to_file(tl, str(fileName))
        return True

    # -- test helpers
    def _add(
        self,
        track: int,
        start: int,
        duration: int,
        name: str,
        mpi: MediaPoolItem | None = None,
        left: int = 0,
        kind: str = "video",
    ) -> TimelineItem:
        """Put an item on the timeline directly (what an editor's own edit does), skipping the API."""
        while track not in self._tracks:
            self._tracks[len(self._tracks) + 1] = []
        item = TimelineItem(self, track, start, duration, name, mpi, left, kind)
        self._tracks[track].append(item)
        return item

    def _items(self) -> list[TimelineItem]:
        return [it for index in sorted(self._tracks) for it in self._tracks[index]]


class MediaPool(_ResolveObject):
    def __init__(self, project: Project):
        self._project = project
        self._root = Folder("Master")
        self._current = self._root
        self._id = _uid("pool")

    def GetUniqueId(self):
        return self._id

    def GetRootFolder(self):
        return self._root

    def GetCurrentFolder(self):
        return self._current

    def SetCurrentFolder(self, folder):
        if not isinstance(folder, Folder) or not self._contains(folder):
            return False
        self._current = folder
        return True

    def _contains(self, folder: Folder) -> bool:
        f: Folder | None = folder
        while f is not None and f is not self._root:
            f = f._parent
        return f is self._root

    def AddSubFolder(self, folder, name):
        if not isinstance(folder, Folder) or not isinstance(name, str) or not name.strip():
            return None
        sub = Folder(name, folder)
        folder._subfolders.append(sub)
        return sub

    def ImportMedia(self, items):
        # QUIRK 1: imports land in the current folder, whatever else is going on.
        created = []
        for entry in items or []:
            path = entry.get("FilePath") if isinstance(entry, dict) else entry
            probed = _probe(Path(path)) if isinstance(path, str) else None
            if probed is None:
                continue  # Resolve skips what it cannot read, silently
            mpi = MediaPoolItem(Path(path), *probed)
            mpi._folder = self._current
            self._current._clips.append(mpi)
            created.append(mpi)
        return created

    def DeleteClips(self, clips):
        for mpi in clips:
            if mpi._folder is None or mpi not in mpi._folder._clips:
                return False
        for mpi in clips:
            mpi._folder._clips.remove(mpi)
        return True

    def MoveClips(self, clips, targetFolder):
        for mpi in clips:
            mpi._folder._clips.remove(mpi)
            targetFolder._clips.append(mpi)
            mpi._folder = targetFolder
        return True

    def CreateEmptyTimeline(self, name):
        project = self._project
        if any(t._name == name for t in project._timelines):
            return None
        tl = Timeline(project, name, project._default_start())
        project._timelines.append(tl)
        project._current_timeline = tl
        return tl

    def AppendToTimeline(self, clipInfo, *more):
        timeline = self._project._current_timeline
        if timeline is None or more or not isinstance(clipInfo, list):
            return []  # only the clipInfo form is modelled; the others are deprecated in 21.1
        returned = []
        for info in clipInfo:
            mpi = info.get("mediaPoolItem")
            if not isinstance(mpi, MediaPoolItem):
                continue
            start, end = int(info.get("startFrame", 0)), int(info.get("endFrame", mpi._frames))
            track = int(info.get("trackIndex", 1))
            if track not in timeline._tracks or not 0 <= start < end <= mpi._frames:
                continue
            # QUIRK 2: endFrame is exclusive. QUIRK 5: a source at another rate lands a frame short.
            duration = end - start
            tl_rate = timeline._rate()
            if mpi._rate != tl_rate:
                duration = math.ceil(Fraction(duration) * tl_rate / mpi._rate) - 1
            # QUIRK 20: recordFrame is absolute; without it the clip goes after the track's last item.
            record = int(
                info.get("recordFrame", max((i.GetEnd() for i in timeline._tracks[track]), default=timeline._start))
            )
            fault = self._project._resolve.faults.pop("occupy_before_append", None)
            if fault:  # an editor's edit (or a stale read) lands between the caller's read and this append
                timeline._add(*fault)
            overlaps = any(it._start < record + duration and record < it.GetEnd() for it in timeline._tracks[track])
            if overlaps or timeline._locked.get(track) or duration < 1:
                # QUIRK 3: dropped without a word. QUIRK 4: an item comes back anyway, with no id.
                ghost = TimelineItem(timeline, track, record, duration, mpi._name, mpi, start)
                ghost._id = ""
                returned.append(ghost)
                continue
            item = timeline._add(track, record, duration, mpi._name, mpi, start)
            returned.append(item)
        return returned


class Project(_ResolveObject):
    def __init__(self, resolve: FakeResolve, name: str, settings: dict[str, str]):
        self._resolve = resolve
        self._id = _uid("project")
        self._name = name
        self._settings = settings
        self._pool = MediaPool(self)
        self._timelines: list[Timeline] = []
        self._current_timeline: Timeline | None = None

    def _default_start(self) -> int:
        return 3600 * math.ceil(_rate_from_setting(self._settings["timelineFrameRate"]))  # 01:00:00:00

    def GetName(self):
        return self._name

    def GetUniqueId(self):
        return self._id

    def GetMediaPool(self):
        return self._pool

    def GetTimelineCount(self):
        return len(self._timelines)

    def GetTimelineByIndex(self, idx):
        return self._timelines[idx - 1] if 1 <= idx <= len(self._timelines) else None

    def GetCurrentTimeline(self):
        return self._current_timeline

    def SetCurrentTimeline(self, timeline):
        if timeline not in self._timelines:
            return False
        self._current_timeline = timeline
        return True

    def GetSetting(self, settingName=None):
        if settingName is None:
            return dict(self._settings)
        return self._settings.get(settingName, "")  # an invalid key gives a trivial value, never an error

    def SetSetting(self, settingName, settingValue):
        if settingName == "timelinePlaybackFrameRate" or settingName not in self._settings:
            return False
        if settingName == "timelineFrameRate" and self._timelines:
            return False  # QUIRK 21
        self._settings[settingName] = str(settingValue)
        return True

    def ExportCurrentFrameAsStill(self, filePath):
        # QUIRK 23: the frame under the playhead, on the Edit or Color page.
        if self._resolve._page not in ("edit", "color") or self._current_timeline is None:
            return False
        item = self._current_timeline.GetCurrentVideoItem()
        if item is None or item._mpi is None:
            return False
        _render_still(item._mpi._path, self._current_timeline._playhead - item._start + item._left, Path(filePath))
        return True


class ProjectManager(_ResolveObject):
    def __init__(self, resolve: FakeResolve):
        self._resolve = resolve
        self._project: Project | None = None
        self.saved = 0

    def GetCurrentProject(self):
        return self._project

    def SaveProject(self):
        # QUIRK 14: the never-saved "Untitled Project" cannot be saved (hangs headless; we just fail).
        if self._project is None or self._project._name == "Untitled Project":
            return False
        self.saved += 1
        return True

    def GetCurrentDatabase(self):
        return {"DbType": "Disk", "DbName": "Local Database"}


class FakeResolve(_ResolveObject):
    # QUIRK 19: enum constants are attributes of the live object (compared by identity here).
    EXPORT_OTIO = object()
    EXPORT_NONE = object()
    EXPORT_AAF = object()
    EXPORT_EDL = object()
    EXPORT_FCP_7_XML = object()

    def __init__(self, studio: bool = True, version: tuple[int, ...] = (21, 0, 4, 7)):
        self._studio = studio
        self._version = list(version)
        self._page = "media"
        self._modal_open = False
        self.faults: dict[str, Any] = {}
        self._pm = ProjectManager(self)

    def _modal(self) -> bool:
        return self._modal_open

    def GetProductName(self):
        return "DaVinci Resolve Studio" if self._studio else "DaVinci Resolve"

    def GetVersion(self):
        return list(self._version) + [""]

    def GetVersionString(self):
        return ".".join(str(v) for v in self._version)

    def GetProjectManager(self):
        return self._pm

    def GetMediaStorage(self):
        return None

    def Fusion(self):
        return None

    def OpenPage(self, pageName):
        if pageName not in PAGES or self._modal_open:
            return False
        self._page = pageName
        return True

    def GetCurrentPage(self):
        return self._page

    # -- test set-up
    def _new_project(
        self, name: str = "Spot", rate: str = "24", width: int = 1920, height: int = 1080, **settings: str
    ) -> Project:
        base = {
            "timelineFrameRate": rate,
            "timelinePlaybackFrameRate": rate.replace(" DF", ""),
            "timelineResolutionWidth": str(width),
            "timelineResolutionHeight": str(height),
            "timelinePixelAspectRatio": "square",
            "timelineInputResMismatchBehavior": "scaleToFit",
            "videoMonitorBitDepth": "10",
            "videoDataLevels": "Video",
            "colorScienceMode": "davinciYRGB",
            "timelineDropFrameTimecode": "1" if "DF" in rate else "0",
        }
        base.update(settings)
        self._pm._project = Project(self, name, base)
        return self._pm._project


def _probe(path: Path) -> tuple[Fraction, int, int, int] | None:
    """Rate, width, height, frames of a real media file, or None (Resolve skips what it cannot read)."""
    if not path.is_file():
        return None
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            frames = stream.frames or sum(1 for _ in container.decode(stream))
            return (Fraction(stream.average_rate), stream.codec_context.width, stream.codec_context.height, frames)
    except (av.error.FFmpegError, UnicodeDecodeError, TypeError, ZeroDivisionError):
        return None


def _render_still(media: Path, frame: int, out: Path) -> None:
    import ffmpeg

    from promptreel.core.ffmpeg import ffmpeg_exe

    tmp = out.with_name(out.stem + ".part" + out.suffix)
    (
        ffmpeg.input(str(media))
        .filter("select", f"eq(n,{frame})")
        .output(str(tmp), vframes=1)
        .overwrite_output()
        .run(cmd=ffmpeg_exe(), quiet=True)
    )
    os.replace(tmp, out)


def cut_with_placeholders(
    rate: str = "24", width: int = 320, height: int = 180, studio: bool = True
) -> tuple[FakeResolve, Timeline]:
    """A project at `rate` with one timeline (01:00:00:00) holding three foreign placeholders on V1:
    a Solid Color generator with a `gen:` marker, a title named `GEN: ...`, and a gap-filling clip."""
    resolve = FakeResolve(studio=studio)
    project = resolve._new_project(rate=rate, width=width, height=height)
    timeline = project.GetMediaPool().CreateEmptyTimeline("Cut 1")
    start = timeline.GetStartFrame()
    solid = timeline._add(1, start + 10, 30, "Solid Color", kind="generator")
    solid.AddMarker(0, "Blue", "gen: a red fox in snow", "", 1)
    timeline._add(1, start + 40, 17, "GEN: storm over the sea", kind="title")
    timeline._add(1, start + 57, 12, "Text+", kind="generator")  # not a placeholder
    return resolve, timeline


def _read(store: dict, key=None):
    """Get(Third Party)Metadata: every field without a key, else the field or ""."""
    return dict(store) if key is None else store.get(key, "")


def _write(store: dict, key, value=None) -> bool:
    """Set(Third Party)Metadata: one key and a string value, or a dict of them; False for anything else."""
    if isinstance(key, dict):
        return all(_write(store, k, v) for k, v in key.items())
    if not isinstance(value, str):
        return False
    store[key] = value
    return True


def long_cut(items: int, placeholders: int = 6, length: int = 12) -> tuple[FakeResolve, Timeline]:
    """A 24 fps 320x180 project whose timeline holds `items` items, each `length` frames: on V1,
    `placeholders` generators named `GEN: ...` spread evenly among shots; on V2, shots before and after
    V1's span (a fifth of the rest each side), so every fill lands on V2 between shots however long the
    cut is. Every shot is its own pool item in the master bin."""
    resolve = FakeResolve()
    project = resolve._new_project(rate="24", width=320, height=180)
    pool = project.GetMediaPool()
    timeline = pool.CreateEmptyTimeline("Long cut")
    side = max(1, (items - placeholders) // 5)
    v1 = items - 2 * side
    every = v1 // placeholders
    marks = {every * k + every // 2 for k in range(placeholders)}
    start = timeline.GetStartFrame()

    def shot(track: int, at: int) -> None:
        mpi = MediaPoolItem(Path(f"/media/shot-{track}-{at:05d}.mov"), Fraction(24), 320, 180, 10 * length)
        mpi._folder = pool.GetRootFolder()
        mpi._folder._clips.append(mpi)
        timeline._add(track, start + length * at, length, mpi._name, mpi, left=length)

    for at in range(side):
        shot(2, at)
        shot(2, side + v1 + at)
    for i in range(v1):
        if i in marks:
            timeline._add(1, start + length * (side + i), length, f"GEN: shot {i}", kind="generator")
        else:
            shot(1, side + i)
    return resolve, timeline


class CallsByOp:
    """The scripting calls (`CALLS`) each gateway operation made, summed by operation name, for a
    `DirectGateway` (in-process: the calls an op makes are the ones counted while it runs)."""

    def __init__(self, gw):
        self.by_op: dict[str, int] = {}
        self.ops: dict[str, int] = {}
        inner = gw._call

        def counted(op, **args):
            before = CALLS.total
            try:
                return inner(op, **args)
            finally:
                self.by_op[op] = self.by_op.get(op, 0) + CALLS.total - before
                self.ops[op] = self.ops.get(op, 0) + 1

        gw._call = counted

    def total(self, *ops: str) -> int:
        return sum(n for op, n in self.by_op.items() if not ops or op in ops)

    def besides(self, *ops: str) -> int:
        return sum(n for op, n in self.by_op.items() if op not in ops)


def pool_clip(resolve: FakeResolve, clip_id: str) -> MediaPoolItem:
    """The media pool item with this id, wherever it is in the pool."""

    def walk(folder):
        yield from folder.GetClipList()
        for sub in folder.GetSubFolderList():
            yield from walk(sub)

    root = resolve.GetProjectManager().GetCurrentProject().GetMediaPool().GetRootFolder()
    return next(c for c in walk(root) if c.GetUniqueId() == clip_id)


def pool_bins(resolve: FakeResolve) -> dict[tuple[str, ...], list[str]]:
    """Every bin under the media pool's root, by its path of names, with the names of its clips."""
    out: dict[tuple[str, ...], list[str]] = {}

    def walk(folder, path):
        for sub in folder.GetSubFolderList():
            out[path + (sub.GetName(),)] = [c.GetName() for c in sub.GetClipList()]
            walk(sub, path + (sub.GetName(),))

    walk(resolve.GetProjectManager().GetCurrentProject().GetMediaPool().GetRootFolder(), ())
    return out
