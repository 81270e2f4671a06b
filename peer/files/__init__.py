"""File and folder transfer, both ways: the pure cores (sans-IO) and a thin disk adapter.

    names.py     what a name from the other side may be: sanitise, collisions, free names,
                 the partial file's name
    frames.py    the binary chunk frame on the files data channel (16-byte header + data)
    digest.py    a running SHA-256 that knows its length; the prefix proof for resume
    incoming.py  one file being received: order, bounds, hash; where to resume
    outgoing.py  the sender's pacing: budget from ``bufferedAmount``, chunks of the next burst
    progress.py  totals, progress, speed and time left of one transfer (time passed in)
    disk.py      the adapter: free space, partial files without following symlinks, commit

Errors (``errors.py``; each carries a stable ``code`` token the UI puts in words and the wire
may carry in an ``error``; all are the other side's fault unless said otherwise)::

    FilesError(Exception)                    .code, .message
     +-- UnsafeName(FilesError, ValueError)     a name from the other side is refused
     +-- BadFrame(FilesError, ValueError)       a binary frame is malformed
     +-- TransferError(FilesError, ValueError)  a chunk breaks the order, the size or the state
     +-- UnsafeDestination(FilesError, OSError) our disk: a symlink or a file on the way (local)

Misuse by our own code (a negative size, seeding too much) raises plain ``ValueError``.
"""
