"""The part of promptreel that runs inside DaVinci Resolve.

Standard library only, no `promptreel` imports, valid Python 3.6: it runs on whatever Python
Resolve finds (the user's system Python, or Resolve 21.1's own). It holds the `resolve` object,
listens on 127.0.0.1 and answers an allowlisted set of operations (`ops.OPS`) for promptreel's
worker process. It writes nothing into the project by itself: every change is a request.
"""

PROTOCOL = 1
