"""OTIO media linker `promptreel`: fills a timeline's placeholders as it is read.

    otio.adapters.read_from_file(path, media_linker_name="promptreel",
                                 media_linker_argument_map={"output_dir": "...", "model": "draft"})

Keys of the argument map: see promptreel.otio_adapters.linking. OTIO loads this file by path,
so it imports absolutely.
"""

from promptreel.otio_adapters.linking import link


def link_media_reference(in_clip, media_linker_argument_map):
    return link(in_clip, media_linker_argument_map)
