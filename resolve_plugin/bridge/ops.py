"""The allowlisted operations, each a function of (session, args) that returns JSON-able data.

These are the only things promptreel can ask of Resolve: the bridge serves exactly `OPS`, and the
direct gateway (Studio external scripting, tests) calls the same functions in-process, so both
paths share every workaround. Each workaround names its quirk, numbered as in
docs/resolve-quirks.md.

Python 3.6, standard library only.
"""

import math
import os
from fractions import Fraction

# Settings that define the conform target (docs/resolve-quirks.md #25).
CONFORM_KEYS = (
    "timelineFrameRate",
    "timelineDropFrameTimecode",
    "timelineResolutionWidth",
    "timelineResolutionHeight",
    "timelinePixelAspectRatio",
    "timelineInputResMismatchBehavior",
    "videoMonitorBitDepth",
    "videoDataLevels",
    "colorScienceMode",
)
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
CLIP_PROPERTIES = ("File Path", "FPS", "Resolution", "Frames", "Bit Depth")


class OpError(Exception):
    """A refusal with a stable code the client maps to a user-facing error."""

    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code = code
        self.message = message


class Session:
    """The `resolve` object and the handles of objects already seen, by unique id."""

    def __init__(self, resolve, file_folders=None):
        self.resolve = resolve
        self.file_folders = file_folders  # the only folders files may be read from or written to; None: any
        self.items = {}
        self.clips = {}
        self._pm = None

    def project(self):
        # The project manager is one object for Resolve's lifetime: asked for once (each call is a round trip).
        if self._pm is None and self.resolve is not None:
            self._pm = self.resolve.GetProjectManager()
        project = self._pm.GetCurrentProject() if self._pm else None
        if not project:
            raise OpError("no_project", "No project is open in Resolve.")
        return project

    def timeline(self):
        timeline = self.project().GetCurrentTimeline()
        if not timeline:
            raise OpError("no_timeline", "The project has no current timeline.")
        return timeline

    def pool(self):
        pool = self.project().GetMediaPool()
        if not pool:
            raise OpError("no_project", "The project's media pool cannot be read.")
        return pool

    def item(self, item_id):
        item = self.items.get(item_id)
        if item is None:
            _scan_items(self, self.timeline())
            item = self.items.get(item_id)
        if item is None:
            raise OpError("not_found", f"Timeline item {item_id} is no longer on the current timeline.")
        return item

    def clip(self, clip_id):
        clip = self.clips.get(clip_id)
        if clip is None:
            _walk(self, self.pool().GetRootFolder())
            clip = self.clips.get(clip_id)
        if clip is None:
            raise OpError("not_found", f"Media pool clip {clip_id} is no longer in the project.")
        return clip

    def path(self, path):
        """`path`, if it lies inside promptreel's folders (links resolved: no way out through `..` or a
        symlink); else a refusal that names them."""
        if self.file_folders is None:
            return path
        if isinstance(path, str) and os.path.isabs(path):
            real = os.path.normcase(os.path.realpath(path))
            for folder in self.file_folders:
                root = os.path.normcase(os.path.realpath(folder))
                if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
                    return path
        folders = ", ".join(self.file_folders) or "none declared"
        raise OpError(
            "outside_folders",
            f"{path} is outside promptreel's media and export folders ({folders}); the bridge "
            "reads and writes files only there. Put the file in one of them, or change promptreel's "
            "output_dir or the panel's export folder.",
        )


# -- reading -------------------------------------------------------------------------------------


def hello(session, args):
    r = session.resolve
    return {
        "product": r.GetProductName() or "",
        "version": list(r.GetVersion() or []),
        "page": r.GetCurrentPage() or "",
    }


def project(session, args):
    """Project name and the effective conform settings: the timeline's own when it uses custom settings."""
    proj = session.project()
    settings = {}
    for key in CONFORM_KEYS:
        settings[key] = str(proj.GetSetting(key) or "")
    timeline = proj.GetCurrentTimeline()
    info = {"name": proj.GetName() or "", "id": proj.GetUniqueId() or "", "settings": settings, "timeline": None}
    if timeline:
        # QUIRK 21: a timeline with useCustomSettings = "1" has its own settings; read keys one by one
        # (the no-argument dump is unreliable for finding the effective override).
        custom = str(timeline.GetSetting("useCustomSettings") or "") == "1"
        if custom:
            for key in CONFORM_KEYS:
                value = timeline.GetSetting(key)
                if value not in (None, ""):
                    settings[key] = str(value)
        info["timeline"] = {
            "id": timeline.GetUniqueId() or "",
            "name": timeline.GetName() or "",
            "start_frame": int(timeline.GetStartFrame()),
            "custom_settings": custom,
        }
    return info


def _markers(obj):
    out = []
    for frame, m in sorted((obj.GetMarkers() or {}).items()):
        out.append(
            {
                "frame": int(frame),
                "color": m.get("color", ""),
                "name": m.get("name", ""),
                "note": m.get("note", ""),
                "duration": int(m.get("duration", 1)),
                "custom_data": m.get("customData", ""),
            }
        )
    return out


def _item_kind(item, mpi):
    if mpi:
        return "clip"
    # On <= 21.0 transitions are items with an empty property dict and no pool item; 21.1 has GetType().
    if "GetType" in dir(item):  # QUIRK 11: probe with dir(), hasattr is always True
        kind = item.GetType()
        if kind in ("transition", "generator"):
            return kind
    return "transition" if not item.GetProperty() else "generator"


def _clip_info(clip, full=False, clip_id=None):
    """A pool item's id, name, clip properties and third-party metadata (`full`: also metadata, colour and
    markers). `clip_id`, when the caller has just read it, is not asked again (each call is a round trip)."""
    props = clip.GetClipProperty() or {}
    info = {
        "id": clip_id if clip_id is not None else (clip.GetUniqueId() or ""),
        "name": str(props.get("Clip Name") or "") or (clip.GetName() or ""),
    }
    for key in CLIP_PROPERTIES:
        info[key] = str(props.get(key, ""))  # QUIRK 10: strings (FPS has come back as a number)
    info["third_party"] = dict(clip.GetThirdPartyMetadata() or {})
    if full:
        info["metadata"] = dict(clip.GetMetadata() or {})
        info["color"] = clip.GetClipColor() or ""
        info["markers"] = _markers(clip)
    return info


def _scan_items(session, timeline):
    tracks = []
    clips = {}
    for index in range(1, int(timeline.GetTrackCount("video") or 0) + 1):
        items = []
        for item in timeline.GetItemListInTrack("video", index) or []:
            item_id = item.GetUniqueId() or ""
            session.items[item_id] = item
            mpi = item.GetMediaPoolItem()
            clip_id = ""
            if mpi:
                clip_id = mpi.GetUniqueId() or ""
                session.clips[clip_id] = mpi
                if clip_id not in clips:
                    clips[clip_id] = _clip_info(mpi, clip_id=clip_id)
            start, duration = int(item.GetStart()), int(item.GetDuration())
            # Every call is a round trip: the end is start + duration, and an item's colour is not read
            # (nothing uses it; it does not stick on generators anyway, QUIRK 8).
            items.append(
                {
                    "id": item_id,
                    "name": item.GetName() or "",
                    "kind": _item_kind(item, mpi),
                    "start": start,
                    "end": start + duration,
                    "duration": duration,
                    # QUIRK 17: GetSourceStartFrame is sometimes a frame off; GetLeftOffset is exact.
                    "left_offset": int(item.GetLeftOffset() or 0),
                    "enabled": bool(item.GetClipEnabled()),
                    "clip_id": clip_id,
                    "markers": _markers(item),
                }
            )
        tracks.append(
            {
                "index": index,
                "name": timeline.GetTrackName("video", index) or "",
                "locked": bool(timeline.GetIsTrackLocked("video", index)),
                "items": items,
            }
        )
    return tracks, clips


def timeline(session, args):
    """Every video track with its items, markers and pool items, in one call (each call is a round trip)."""
    tl = session.timeline()
    tracks, clips = _scan_items(session, tl)
    return {
        "id": tl.GetUniqueId() or "",
        "name": tl.GetName() or "",
        "start_frame": int(tl.GetStartFrame()),
        "end_frame": int(tl.GetEndFrame()),
        "markers": _markers(tl),
        "tracks": tracks,
        "clips": clips,
    }


def clip(session, args):
    return _clip_info(session.clip(args["clip_id"]), full=True)


def _walk(session, folder):
    """Every pool item under `folder` into the session's handles, by id."""
    for c in folder.GetClipList() or []:
        session.clips[c.GetUniqueId() or ""] = c
    for sub in folder.GetSubFolderList() or []:
        _walk(session, sub)


# -- writing (each checks its result and reads back: QUIRK 12, failure is None/False) -------------


def _ensure_folder(session, path):
    """The bin at `path` (a list of names under the root), created level by level where missing."""
    pool = session.pool()
    folder = pool.GetRootFolder()
    for name in path:
        match = [f for f in folder.GetSubFolderList() or [] if f.GetName() == name]
        if match:
            folder = match[0]
            continue
        # Folders cannot be renamed through the API and AddSubFolder gives None on failure.
        sub = pool.AddSubFolder(folder, name)
        if not sub:
            raise OpError("failed", f"Resolve refused to create the bin '{name}'.")
        folder = sub
    return folder


def _set_fields(c, kind, wanted):
    """Write metadata fields (`kind` "" for standard, "ThirdParty") with one dict-form Set and one Get (each
    call is a round trip); fields a dict write did not keep are tried one by one. Returns (fields read back,
    the keys that did not stick)."""
    get, put = getattr(c, f"Get{kind}Metadata"), getattr(c, f"Set{kind}Metadata")
    if wanted:
        put(dict(wanted))
    got = dict(get() or {})
    missed = [k for k in sorted(wanted) if got.get(k) != wanted[k]]
    if missed:  # QUIRK 12: a dict write can fail as a whole on one field Resolve refuses
        for k in missed:
            if put(k, wanted[k]) and get(k) == wanted[k]:
                got[k] = wanted[k]
        missed = [k for k in missed if got.get(k) != wanted[k]]
    return got, missed


def _tag(c, args, clip_id=None, props=None):
    """Write standard metadata, third-party metadata, a clip colour and a clip name, then read them back.
    `clip_id` and `props` (its clip properties), when the caller has just read them, are not asked again."""
    metadata, failed = _set_fields(c, "", args.get("metadata") or {})
    third, missed = _set_fields(c, "ThirdParty", args.get("third_party") or {})
    failed.extend(missed)
    color = args.get("color")
    got_color = None
    if color:
        # QUIRK 9: only the 16 clip colours are accepted.
        got_color = c.GetClipColor() if color in CLIP_COLORS and c.SetClipColor(color) else None
        if got_color != color:
            failed.append("color")
    name = args.get("name")
    if name:
        # The bin shows "Clip Name" (the file's name until set); read back (QUIRK 12: False, no exception).
        if not c.SetClipProperty("Clip Name", name):
            failed.append("name")
        props = None  # read again below: the name is one of them
    if props is None:
        props = c.GetClipProperty() or {}
    if name and props.get("Clip Name") != name:
        failed.append("name")
    info = {
        "id": clip_id if clip_id is not None else (c.GetUniqueId() or ""),
        "name": str(props.get("Clip Name") or "") or (c.GetName() or ""),
    }
    for key in CLIP_PROPERTIES:
        info[key] = str(props.get(key, ""))  # QUIRK 10: strings (FPS has come back as a number)
    info["third_party"] = third
    info["metadata"] = metadata
    info["color"] = got_color if got_color is not None else (c.GetClipColor() or "")
    info["failed"] = sorted(set(failed), key=failed.index)
    return info


def _same_file(a, b):
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def _match_imported(imported, paths):
    """The imported pool item of each path and its clip properties ((None, None): not imported), by its File
    Path; where Resolve spells a path its own way and it imported every file, by position (it answers in
    the order asked)."""
    by_path = [(None, None)] * len(paths)
    rest = []
    for c in imported:
        props = c.GetClipProperty() or {}
        got = str(props.get("File Path", ""))
        i = next((i for i, p in enumerate(paths) if by_path[i][0] is None and got and _same_file(got, p)), None)
        if i is None:
            rest.append((c, props))
        else:
            by_path[i] = (c, props)
    if rest and len(imported) == len(paths):
        free = [i for i, (c, _) in enumerate(by_path) if c is None]
        for i, c in zip(free, rest):
            by_path[i] = c
    return by_path


def import_clips(session, args):
    """Import files into their bins and tag each (`_tag`'s read-back), in one call: one ImportMedia
    per bin (QUIRK 1: it imports into the current folder only), the current folder restored at the end.
    Answers per file, in order: {"clip": info with "failed"} or {"error": why}; one file refused does
    not stop the others."""
    pool = session.pool()
    specs = args["clips"]
    out = [None] * len(specs)
    bins_order, by_bin = [], {}
    for i, spec in enumerate(specs):
        try:
            session.path(spec["path"])
        except OpError as e:
            out[i] = {"error": e.message}
            continue
        key = tuple(spec["bin"])
        if key not in by_bin:
            bins_order.append(key)
            by_bin[key] = []
        by_bin[key].append(i)
    previous = pool.GetCurrentFolder()
    try:
        for key in bins_order:
            indices = by_bin[key]
            try:
                folder = _ensure_folder(session, list(key))
                if not pool.SetCurrentFolder(folder):
                    raise OpError(
                        "failed", "Resolve would not select the bin '{}' to import into.".format("/".join(key))
                    )
            except OpError as e:
                for i in indices:
                    out[i] = {"error": e.message}
                continue
            paths = [specs[i]["path"] for i in indices]
            # 21.1 deprecates the bare-path list; the clipInfo form works on every version that has ImportMedia.
            imported = pool.ImportMedia([{"FilePath": p} for p in paths]) or []
            for i, (c, props) in zip(indices, _match_imported(imported, paths)):
                if c is None:
                    out[i] = {"error": "Resolve did not import {}.".format(os.path.basename(specs[i]["path"]))}
                    continue
                clip_id = c.GetUniqueId() or ""
                session.clips[clip_id] = c
                out[i] = {"clip": _tag(c, specs[i], clip_id, props)}
    finally:
        if previous:
            pool.SetCurrentFolder(previous)
    return out


def add_track(session, args):
    """A new video track on top, named `name` when given (so revert can tell it is promptreel's)."""
    tl = session.timeline()
    before = int(tl.GetTrackCount("video") or 0)
    tl.AddTrack("video")  # returns Bool, not an index: read the count back
    after = int(tl.GetTrackCount("video") or 0)
    if after != before + 1:
        raise OpError("failed", "Resolve would not add a video track.")
    if args.get("name"):
        tl.SetTrackName("video", after, args["name"])
    return {"index": after, "name": tl.GetTrackName("video", after) or ""}


def delete_track(session, args):
    """Delete video track `index` only if it is still called `name` and holds nothing; read back.
    Checked here, in the one thread that talks to Resolve, so nothing lands on it in between."""
    tl = session.timeline()
    index = int(args["index"])
    count = int(tl.GetTrackCount("video") or 0)
    if not 1 <= index <= count or (tl.GetTrackName("video", index) or "") != args["name"]:
        return {"deleted": False, "reason": "renamed"}
    if tl.GetItemListInTrack("video", index) or tl.GetIsTrackLocked("video", index):
        return {"deleted": False, "reason": "in use"}
    tl.DeleteTrack("video", index)
    return {"deleted": int(tl.GetTrackCount("video") or 0) == count - 1, "reason": ""}


def set_enabled(session, args):
    out = {}
    for item_id in args["item_ids"]:
        item = session.item(item_id)
        item.SetClipEnabled(bool(args["enabled"]))
        out[item_id] = bool(item.GetClipEnabled())
    return out


def delete_items(session, args):
    """Delete timeline items. QUIRK 6: DeleteClips fails unless the Edit page is open."""
    resolve = session.resolve
    tl = session.timeline()
    items = [session.item(i) for i in args["item_ids"]]
    page = resolve.GetCurrentPage()
    if page != "edit" and not resolve.OpenPage("edit"):
        raise OpError("failed", "Resolve would not open the Edit page (is a dialog open?).")
    try:
        ok = bool(tl.DeleteClips(items, False))
    finally:
        if page and page != "edit":
            resolve.OpenPage(page)
    remaining = set()
    for index in range(1, int(tl.GetTrackCount("video") or 0) + 1):
        for it in tl.GetItemListInTrack("video", index) or []:
            remaining.add(it.GetUniqueId())
    gone = [i for i in args["item_ids"] if i not in remaining]
    for i in gone:
        session.items.pop(i, None)
    return {"ok": ok, "deleted": gone}


def replace_clip(session, args):
    """Swap a pool item's media. QUIRK 7: ReplaceClip wipes metadata, so it is written again and read back.
    The answer also has the item as it was (`before`: path, frames, rate and both metadata) and, for the
    timeline items in `uses`, each read back after the swap (record extent, left offset, pool item): every
    use must keep its in and out points."""
    path = session.path(args["path"])
    clip_id = args["clip_id"]
    c = session.clip(clip_id)
    old_props = c.GetClipProperty() or {}
    old_meta = dict(c.GetMetadata() or {})
    old_third = dict(c.GetThirdPartyMetadata() or {})
    before = {
        "id": clip_id,
        "name": str(old_props.get("Clip Name") or ""),
        "metadata": old_meta,
        "third_party": old_third,
    }
    for key in CLIP_PROPERTIES:
        before[key] = str(old_props.get(key, ""))
    metadata = dict(old_meta, **(args.get("metadata") or {}))
    third = dict(old_third, **(args.get("third_party") or {}))
    if not c.ReplaceClip(path):
        raise OpError("failed", f"Resolve could not replace the media of clip {clip_id}.")
    info = _tag(c, {"metadata": metadata, "third_party": third}, clip_id)
    info["before"] = before
    info["uses"] = [_use(session, item_id) for item_id in args.get("uses") or []]
    return info


def _use(session, item_id):
    """One timeline item read back by id (record extent, left offset, pool item); {"id": ""} if it is gone."""
    try:
        item = session.item(item_id)
    except OpError:
        return {"id": "", "start": 0, "end": 0, "duration": 0}
    start, duration = int(item.GetStart() or 0), int(item.GetDuration() or 0)
    mpi = item.GetMediaPoolItem()
    return {
        "id": item_id,
        "start": start,
        "end": start + duration,
        "duration": duration,
        "left_offset": int(item.GetLeftOffset() or 0),
        "clip_id": (mpi.GetUniqueId() or "") if mpi else "",
    }


def _track_range(session, tl, track, start, end, hint=None):
    """The items of video track `track` over record frames [start, end), read without walking the track:
    Resolve lists a track's items in record order, so the first one ending after `start` is found by
    bisection (from `hint`, its index as the caller last saw the track, in two reads when that still holds)
    and only items from there up to `end` are read. Each: id, record extent, pool item."""
    items = tl.GetItemListInTrack("video", int(track)) or []
    n = len(items)
    starts, ends = {}, {}

    def start_of(i):
        if i not in starts:
            starts[i] = int(items[i].GetStart())
        return starts[i]

    def ends_after(i):  # False, ..., False, True, ... along the track
        if i not in ends:
            ends[i] = int(items[i].GetEnd())
        return ends[i] > start

    if (
        hint is not None
        and 0 <= hint <= n
        and (hint == 0 or not ends_after(hint - 1))
        and (hint == n or ends_after(hint))
    ):
        lo = hint
    else:
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) // 2
            if ends_after(mid):
                hi = mid
            else:
                lo = mid + 1
    out = []
    i = lo
    while i < n and start_of(i) < end:
        item = items[i]
        item_id = item.GetUniqueId() or ""
        session.items[item_id] = item
        mpi = item.GetMediaPoolItem()
        ends_after(i)
        out.append(
            {
                "id": item_id,
                "start": starts[i],
                "end": ends[i],
                "duration": ends[i] - starts[i],
                "clip_id": (mpi.GetUniqueId() or "") if mpi else "",
                "track": int(track),
            }
        )
        i += 1
    return out


def place(session, args):
    """Place one clip for a placeholder in one call (each call is a round trip): AppendToTimeline, disable
    the items in `disable` (the placeholder), and read back the track over the slot. The caller judges the
    read-back: AppendToTimeline's return is no proof (QUIRK 4), overlaps are dropped silently (QUIRK 3),
    a mixed-rate source lands short (QUIRK 5). `hint`: see `_track_range`."""
    proj = session.project()
    tl = proj.GetCurrentTimeline()
    if not tl:
        raise OpError("no_timeline", "The project has no current timeline.")
    # AppendToTimeline places on the *current* timeline: refuse if the editor switched since the caller read it.
    if args.get("timeline_id") and tl.GetUniqueId() != args["timeline_id"]:
        raise OpError("timeline_changed", "The current timeline in Resolve changed since it was read.")
    pool = proj.GetMediaPool()
    first, last, track, record = (int(args[k]) for k in ("start_frame", "end_frame", "track", "record_frame"))
    # QUIRK 2: source frames, endFrame exclusive. QUIRK 20: recordFrame absolute, trackIndex 1-based.
    info = {
        "mediaPoolItem": session.clip(args["clip_id"]),
        "startFrame": first,
        "endFrame": last,
        "trackIndex": track,
        "recordFrame": record,
        "mediaType": 1,
    }
    returned = []
    for item in (pool.AppendToTimeline([info]) if pool else None) or []:
        item_id = item.GetUniqueId() or ""
        if item_id:
            session.items[item_id] = item
        returned.append(item_id)
    disabled = {}
    for item_id in args.get("disable") or []:
        item = session.item(item_id)
        item.SetClipEnabled(False)
        disabled[item_id] = not item.GetClipEnabled()
    found = _track_range(session, tl, track, record, record + last - first, args.get("hint"))
    return {"returned": returned, "disabled": disabled, "range": found}


# -- take selectors (QUIRK 24: 1-based; a count of 0 means a plain item) -------------


def _takes(item):
    out = []
    for index in range(1, int(item.GetTakesCount() or 0) + 1):
        info = item.GetTakeByIndex(index) or {}
        mpi = info.get("mediaPoolItem")
        out.append(
            {
                "index": index,
                "clip_id": (mpi.GetUniqueId() or "") if mpi else "",
                "start_frame": int(info.get("startFrame") or 0),
                "end_frame": int(info.get("endFrame") or 0),
            }
        )
    return out


def _shown(item):
    mpi = item.GetMediaPoolItem()
    return {
        "id": item.GetUniqueId() or "",
        "start": int(item.GetStart()),
        "duration": int(item.GetDuration()),
        "left_offset": int(item.GetLeftOffset() or 0),
        "clip_id": (mpi.GetUniqueId() or "") if mpi else "",
        "selected": int(item.GetSelectedTakeIndex() or 0),
        "takes": _takes(item),
    }


def _select_clip(item, clip_id):
    """Select the take showing `clip_id`; False if there is none."""
    for take in _takes(item):
        if take["clip_id"] == clip_id:
            return bool(item.SelectTakeByIndex(take["index"]))
    return False


def add_takes(session, args):
    """Add pool items as takes of a placed item (a take selector, initialized if needed). Each take is
    proven by selecting it and reading back its record extent and start: one that does not fill
    `frames` exactly (QUIRK 5: a mixed-rate take lands a frame short) is deleted again. The take
    that was showing is selected again; if no added take stands, the selector is finalized back to
    the plain item. QUIRK 11: AddTake is probed with dir(), never hasattr."""
    item = session.item(args["item_id"])
    frames = int(args["frames"])
    before = _shown(item)
    if "AddTake" not in dir(item):
        return {"available": False, "takes": [], "shown": before}
    out = []
    for spec in args["takes"]:
        mpi = session.clip(spec["clip_id"])
        count = int(item.GetTakesCount() or 0)
        ok = bool(item.AddTake(mpi, int(spec["start_frame"]), int(spec["end_frame"])))
        takes = _takes(item)
        new = takes[-1] if ok and len(takes) > count and takes[-1]["clip_id"] == spec["clip_id"] else None
        if new is None:  # QUIRK 12: refused (or a True that did nothing)
            out.append({"clip_id": spec["clip_id"], "ok": False, "reason": "refused"})
            continue
        item.SelectTakeByIndex(new["index"])
        start, duration = int(item.GetStart()), int(item.GetDuration())
        if start == before["start"] and duration == frames and new["end_frame"] - new["start_frame"] == frames:
            out.append({"clip_id": spec["clip_id"], "ok": True, "index": new["index"], "duration": duration})
            continue
        _select_clip(item, before["clip_id"])
        gone = bool(item.DeleteTakeByIndex(new["index"])) and all(t["clip_id"] != spec["clip_id"] for t in _takes(item))
        out.append(
            {
                "clip_id": spec["clip_id"],
                "ok": False,
                "duration": duration,
                "removed": gone,
                "reason": "lasts {} frames from frame {} as a take; the slot is {} from {}".format(
                    duration, start, frames, before["start"]
                ),
            }
        )
    _select_clip(item, before["clip_id"])
    if before["selected"] == 0 and not any(t["ok"] for t in out) and int(item.GetTakesCount() or 0) == 1:
        item.FinalizeTake()
    return {"available": True, "takes": out, "shown": _shown(item)}


def remove_takes(session, args):
    """Delete the takes showing `clip_ids` from an item (highest index first, the take showing
    `keep_clip_id` selected), and finalize the selector back to a plain item once one take is left."""
    item = session.item(args["item_id"])
    drop = set(args["clip_ids"])
    _select_clip(item, args.get("keep_clip_id") or "")
    for take in reversed(_takes(item)):
        if take["clip_id"] in drop:
            item.DeleteTakeByIndex(take["index"])
    if int(item.GetTakesCount() or 0) == 1:
        item.FinalizeTake()
    shown = _shown(item)
    session.items[shown["id"]] = item
    shown["left"] = sorted(t["clip_id"] for t in shown["takes"] if t["clip_id"] in drop)
    return shown


def _timecode(frame, nominal, drop):
    if drop:
        dropped = 2 * (nominal // 30)
        per_10 = nominal * 600 - dropped * 9
        per_min = nominal * 60 - dropped
        tens, rem = divmod(frame, per_10)
        frame += dropped * 9 * tens + (dropped * ((rem - dropped) // per_min) if rem > dropped else 0)
    sep = ";" if drop else ":"
    h, m, s, f = frame // (nominal * 3600), frame // (nominal * 60) % 60, frame // nominal % 60, frame % nominal
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{f:02d}"


def export_still(session, args):
    """The frame at an absolute timeline frame as an image. QUIRK 23: move the playhead first, on the Edit page."""
    path = session.path(args["path"])
    resolve = session.resolve
    proj = session.project()
    tl = session.timeline()
    rate = str(tl.GetSetting("timelineFrameRate") or proj.GetSetting("timelineFrameRate") or "24")
    nominal = int(math.ceil(Fraction(rate.replace("DF", "").strip() or "24")))  # timecode base: 24 for 23.976
    page = resolve.GetCurrentPage()
    if page not in ("edit", "color") and not resolve.OpenPage("edit"):
        raise OpError("failed", "Resolve would not open the Edit page.")
    try:
        if not tl.SetCurrentTimecode(_timecode(int(args["frame"]), nominal, "DF" in rate)):
            raise OpError("failed", "Resolve would not move the playhead.")
        if not proj.ExportCurrentFrameAsStill(path):
            raise OpError("failed", "Resolve could not export the frame as a still.")
    finally:
        if page and page not in ("edit", "color"):
            resolve.OpenPage(page)
    return {"path": args["path"]}


def export_timeline(session, args):
    """The current timeline as OTIO. QUIRK 19: the constants come from the live object."""
    path = session.path(args["path"])
    resolve = session.resolve
    if not session.timeline().Export(path, resolve.EXPORT_OTIO, resolve.EXPORT_NONE):
        raise OpError("failed", "Resolve could not export the timeline.")
    return {"path": args["path"]}


# name -> (function, required argument names). The bridge answers these, plus its own `ping` and
# `shutdown`, and nothing else.
OPS = {
    "hello": (hello, ()),
    "project": (project, ()),
    "timeline": (timeline, ()),
    "clip": (clip, ("clip_id",)),
    "import_clips": (import_clips, ("clips",)),
    "place": (place, ("clip_id", "start_frame", "end_frame", "track", "record_frame")),
    "add_track": (add_track, ()),
    "delete_track": (delete_track, ("index", "name")),
    "set_enabled": (set_enabled, ("item_ids", "enabled")),
    "delete_items": (delete_items, ("item_ids",)),
    "replace_clip": (replace_clip, ("clip_id", "path")),
    "add_takes": (add_takes, ("item_id", "takes", "frames")),
    "remove_takes": (remove_takes, ("item_id", "clip_ids")),
    "export_still": (export_still, ("frame", "path")),
    "export_timeline": (export_timeline, ("path",)),
}


def dispatch(session, op, args):
    """Run one allowlisted operation. Raises OpError for a refusal; anything else is a bug."""
    if op not in OPS:
        raise OpError("unknown_op", f"The bridge does not do '{op}'.")
    func, required = OPS[op]
    if not isinstance(args, dict) or any(k not in args for k in required):
        raise OpError("bad_request", "'{}' needs {}.".format(op, ", ".join(required) or "no arguments"))
    return func(session, args)
