"""The timeline domain: placeholders in an OTIO timeline, what a fill writes into it, take tracks, and the fill.

A one-way chain, each module importing only those before it:

    metadata (promptreel's namespace), timebase <- placeholders <- writeback <- take_tracks
        <- fill, promote, revert, extend <- edit   (with filler: what makes a batch's media, and neighbours: stills)

The OTIO plugin surface (otio_adapters/: manifest, media linker, hooks, storyboard adapter, CLI) and
the Resolve plugin's file mode both fill, extend and edit timelines through this package.
"""
