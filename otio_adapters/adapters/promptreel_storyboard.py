"""OTIO adapter `promptreel_storyboard`: a shot list (CSV, Markdown table or JSON) -> a timeline of placeholders.

    otio.adapters.read_from_file("shots.csv", adapter_name="promptreel_storyboard",
                                 rate="24000/1001", start_timecode="01:00:00:00")

OTIO loads this file by path, so it imports absolutely.
"""

from promptreel.otio_adapters.storyboard import read_shot_list


def read_from_file(filepath, rate="24", start_timecode="01:00:00:00", size=None, bit_depth=None):
    return read_shot_list(filepath, rate=rate, start_timecode=start_timecode, size=size, bit_depth=bit_depth)
