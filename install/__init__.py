"""Installing promptreel's Scripts-menu entry into DaVinci Resolve, on macOS, Windows and Linux."""
